fn main() -> std::process::ExitCode {
    konduktor::cli::main()
}

/// Before the Rust runtime replaces a closed standard output with
/// `/dev/null`, note that it was closed (see `output::print`).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static NOTE_CLOSED_STDOUT: extern "C" fn() = konduktor::note_closed_stdout;
