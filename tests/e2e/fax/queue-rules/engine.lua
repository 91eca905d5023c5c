-- engine.lua (t21_fax_queue scenarios): the sample documents of the build (build/fax at the
-- repository root; folders are relative to this rules folder).
return { fax_dir = "../../../../build/fax" }
