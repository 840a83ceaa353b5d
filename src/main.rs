//! Entry point: parse the command line and report any failure as one clear line.

fn main() -> std::process::ExitCode {
    match referee::cli::main() {
        Ok(status) => status,
        Err(error) => {
            referee::cli::say(&format!("referee: {error:#}"));
            std::process::ExitCode::from(2)
        }
    }
}
