fn main() -> std::process::ExitCode {
    konduktor::cli::main()
}
