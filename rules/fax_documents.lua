-- rules/fax_documents.lua — the documents of key 3, fax on demand (§10.11; SPEC 2.5).
-- `number` is what the caller keys; `file` is a TIFF in the engine's documents folder
-- (its fax_dir setting; the build makes the samples); `title_prompt` is read in the
-- catalogue ("文件1,...").  To add one: an entry here, its title line in
-- prompts/fax.txt, the TIFF in the documents folder; make prompts; save.
return {
  list = {
    { number = "1", title_prompt = "fax/doc_1", file = "doc-1.tif" },
    { number = "2", title_prompt = "fax/doc_2", file = "doc-2.tif" },
    { number = "3", title_prompt = "fax/doc_3", file = "doc-3.tif" },
    { number = "4", title_prompt = "fax/doc_4", file = "doc-4.tif" },
  },
}
