//! The pure parts, no server: planning 1,000 and 10,000 secrets against as
//! many live ones, and zipping a directory of 10,000 small files.

use std::sync::OnceLock;

use divan::Bencher;

fn main() {
    divan::main();
}

#[divan::bench(args = [1_000, 10_000])]
fn plan(bencher: Bencher, n: usize) {
    let input = konduktor::bench::plan_input(n);
    bencher.bench_local(|| konduktor::bench::plan(divan::black_box(&input)));
}

/// 10,000 files of 100 bytes in 100 folders, made once.
fn small_files() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for i in 0..10_000 {
            let sub = dir.path().join(format!("d{:03}", i / 100));
            std::fs::create_dir_all(&sub).unwrap_or_else(|e| panic!("{e}"));
            let line = format!("file {i:05} ").repeat(10);
            std::fs::write(sub.join(format!("f{i:05}.txt")), line)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        dir
    })
    .path()
}

#[divan::bench(sample_count = 10)]
fn zip_10k_small_files(bencher: Bencher) {
    let dir = small_files();
    bencher.bench_local(|| konduktor::bench::zip_directory(divan::black_box(dir)));
}
