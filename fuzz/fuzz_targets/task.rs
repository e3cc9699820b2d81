//! Any bytes as a task file: parsing and rendering the diagnostic never
//! crash, hang or exhaust memory.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = konduktor::task::parse(Path::new("fuzz/task.yaml"), &text) {
        let _ = e.to_string();
        let _ = konduktor::diagnostic(&e, false);
    }
});
