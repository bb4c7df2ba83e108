//! `raptoken login` and `raptoken logout`: the workstation login of Rapidata's SDK without
//! Python. `login` has the person approve in a browser and stores a new API client in the SDK's
//! credentials file, where `raptoken token`, every program using the library and the SDK find
//! it; `logout` removes this issuer's entries again. Both are thin layers over
//! `raptoken::login` / `raptoken::logout`.

use raptoken::ClientOptions;

use crate::args::Cli;
use crate::exit::Failure;
use crate::token::report_failure;

pub fn login(cli: &Cli) -> i32 {
    let options = match cli.client_options() {
        Ok(o) => o,
        Err(f) => return report_failure(&f),
    };
    let no_browser = cli.no_browser;
    let mut on_url = |url: &str| {
        let opened = !no_browser && raptoken::open_browser(url);
        let lead = if opened {
            "Log in to Rapidata in the browser window that just opened, or open this URL:"
        } else {
            "Open this URL in a browser to log in to Rapidata:"
        };
        // stderr, like every message of the CLI that is not the requested output.
        eprintln!("{lead}\n  {url}\nWaiting for the login to be approved (Ctrl-C cancels)...");
    };
    match raptoken::login(&options, Some(&mut on_url), None) {
        Ok(done) => {
            println!(
                "Logged in: API client {} ('{}') for {} is stored in {}.",
                done.client_id,
                done.display_name,
                done.issuer,
                done.credentials_file.display()
            );
            println!("raptoken token, programs using libraptoken and Rapidata's Python SDK now use it.");
            0
        }
        Err(e) => report_failure(&Failure::Lib(e)),
    }
}

pub fn logout(cli: &Cli) -> i32 {
    let result = cli.client_options().and_then(|o: ClientOptions| Ok(raptoken::logout(&o, cli.client_id())?));
    let done = match result {
        Ok(d) => d,
        Err(f) => return report_failure(&f),
    };
    let path = done.credentials_file.display();
    if done.removed.is_empty() {
        match cli.client_id() {
            Some(id) => println!("No stored client {id} for {} in {path}: nothing to remove.", done.issuer),
            None => println!("No stored credentials for {} in {path}: nothing to remove.", done.issuer),
        }
        return 0;
    }
    println!("Removed from {path} ({}):", done.issuer);
    for c in &done.removed {
        match &c.display_name {
            Some(name) => println!("  {} ('{name}')", c.client_id),
            None => println!("  {}", c.client_id),
        }
    }
    println!("The API clients themselves still exist at Rapidata: delete them under Settings > Tokens if no longer needed.");
    0
}
