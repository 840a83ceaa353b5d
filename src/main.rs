//! Entry point: parse the command line and report any failure as one clear line (made safe to
//! print: it may quote what a server or a file said).

fn main() -> std::process::ExitCode {
    match referee::cli::main() {
        Ok(status) => status,
        Err(error) => {
            let said = format!("{error:#}");
            referee::cli::say(&format!(
                "referee: {}",
                referee::text_safety::visible(&said)
            ));
            std::process::ExitCode::from(2)
        }
    }
}
