-- engine.lua (t21_fax_queue scenarios): the sample documents of the build.
return { fax_dir = "build/fax" }
