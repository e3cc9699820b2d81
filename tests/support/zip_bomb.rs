//! A zip bomb for tests, shared by the plan's unit tests and the end-to-end
//! tests (included by path in both): one entry of 1 MiB of zeros, copied
//! raw (still compressed) under `copies` names in `folder/`, about 1 KiB
//! each as stored and 1 MiB each inflated.

use std::io::Write;

pub fn zip_bomb(folder: &str, copies: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file(format!("{folder}/0"), opts)
        .unwrap_or_else(|e| panic!("{e}"));
    w.write_all(&vec![0u8; 1 << 20])
        .unwrap_or_else(|e| panic!("{e}"));
    let one = w.finish().unwrap_or_else(|e| panic!("{e}"));
    let mut source = zip::ZipArchive::new(one).unwrap_or_else(|e| panic!("{e}"));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..copies {
        let entry = source.by_index(0).unwrap_or_else(|e| panic!("{e}"));
        w.raw_copy_file_rename(entry, format!("{folder}/{i}"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}
