//! The command line, parsed by hand (a parser crate would cost more build time than these few
//! flags are worth). Values are turned into `raptoken::ClientOptions` by `client_options`, so
//! every check the library makes on a value applies to the CLI too.

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use raptoken::internals::{Cli as OptCli, Env, Kind, Opt, OPTIONS};
use raptoken::{ClientOptions, LogLevel};
use zeroize::Zeroizing;

use crate::exit::Failure;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Token,
    Check,
    Maintain,
    Keygen,
    Login,
    Logout,
    Help,
    Version,
}

/// When to show "still waiting" on stderr. `Auto`: only if stderr is a terminal, so scripts and
/// CI logs stay clean while a person at a shell sees why nothing happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Auto,
    Always,
    Never,
}

/// How the client proves its identity: a secret from a file or stdin, or a private key file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SecretFrom {
    File(PathBuf),
    Stdin,
    KeyFile(String),
}

#[derive(Debug)]
pub struct Cli {
    pub command: Command,
    pub json: bool,
    pub progress: Progress,
    /// `maintain`: write the file once and exit.
    pub once: bool,
    /// `login`: print the URL only, do not start a browser.
    pub no_browser: bool,
    /// Read a ready token from this file; for `maintain`, the file to keep fresh.
    pub token_file: Option<String>,
    /// `keygen`: where to write the new private key, and whether to print a JWKS.
    pub out: Option<PathBuf>,
    pub jwks: bool,
    no_token_file: bool,
    shared_cache: Option<bool>,
    client_id: Option<String>,
    secret: Option<SecretFrom>,
    /// `--log LEVEL`: the library's log lines on stderr.
    pub log: Option<LogLevel>,
    /// Flags of the option table (`Cli::Flag` rows), as (option name, text), in the order given.
    options: Vec<(&'static str, String)>,
}

const COMMANDS: &str = "token, check, maintain, keygen, login, logout, help";

/// Flags that take a value (`--flag VALUE` or `--flag=VALUE`), besides the option table's.
const VALUED: &[&str] = &["--client-id", "--client-secret-file", "--client-key-file", "--progress", "--token-file", "--log", "--out", "--timeout"];

/// The option-table row a flag sets, if it is one of the table's flags.
fn table_flag(name: &str) -> Option<&'static Opt> {
    OPTIONS.iter().find(|o| matches!(o.cli, OptCli::Flag(f, _) if f == name))
}

pub fn parse(argv: Vec<OsString>) -> Result<Cli, String> {
    let mut cli = Cli {
        command: Command::Help,
        json: false,
        progress: Progress::Auto,
        once: false,
        no_browser: false,
        token_file: None,
        out: None,
        jwks: false,
        no_token_file: false,
        shared_cache: None,
        client_id: None,
        secret: None,
        log: None,
        options: Vec::new(),
    };
    let mut command: Option<Command> = None;
    let mut early: Option<Command> = None; // --help / --version win over everything else
    let mut args = argv.into_iter();
    while let Some(arg) = args.next() {
        let Ok(arg) = arg.into_string() else {
            return Err("an argument is not valid UTF-8".into());
        };
        if arg.starts_with("--") && arg.len() > 2 {
            // Only the part before '=' is ever echoed: the rest may be a secret typed by mistake.
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            // `--shared-cache=DIR` is `--shared-cache-dir DIR`; plain `--shared-cache` takes no value.
            if name == "--shared-cache" && inline.is_some() {
                set_valued(&mut cli, "--shared-cache-dir", inline.unwrap_or_default())?;
                continue;
            }
            if VALUED.contains(&name.as_str()) || table_flag(&name).is_some() {
                let value = match inline {
                    Some(v) => v,
                    None => args
                        .next()
                        .ok_or_else(|| format!("{name} needs a value"))?
                        .into_string()
                        .map_err(|_| format!("the value of {name} is not valid UTF-8"))?,
                };
                set_valued(&mut cli, &name, value)?;
                continue;
            }
            if inline.is_some() {
                if matches!(name.as_str(), "--client-secret") {
                    return Err(no_plain_secret());
                }
                return Err(format!("{name} does not take a value"));
            }
            match name.as_str() {
                "--help" => early = early.or(Some(Command::Help)),
                "--version" => early = early.or(Some(Command::Version)),
                "--json" => cli.json = true,
                "--once" => cli.once = true,
                "--jwks" => cli.jwks = true,
                "--no-browser" => cli.no_browser = true,
                "--no-token-file" => cli.no_token_file = true,
                "--shared-cache" => cli.shared_cache = Some(true),
                "--no-shared-cache" => cli.shared_cache = Some(false),
                "--quiet" => cli.progress = Progress::Never,
                "--client-secret-stdin" => set_secret(&mut cli, SecretFrom::Stdin)?,
                "--client-secret" => return Err(no_plain_secret()),
                _ => return Err(format!("unknown option {name}")),
            }
            continue;
        }
        match arg.as_str() {
            "-h" => early = early.or(Some(Command::Help)),
            "-V" => early = early.or(Some(Command::Version)),
            "-q" => cli.progress = Progress::Never,
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {}", word_preview(s))),
            s => {
                if command.is_some() {
                    // Never echoed: a stray argument is often a value meant for a flag, maybe a secret.
                    return Err("unexpected argument after the command (not shown, in case it is a secret)".into());
                }
                command = Some(match s {
                    "token" => Command::Token,
                    "check" => Command::Check,
                    "maintain" => Command::Maintain,
                    "keygen" => Command::Keygen,
                    "login" => Command::Login,
                    "logout" => Command::Logout,
                    "help" => Command::Help,
                    "version" => Command::Version,
                    other => return Err(format!("unknown command {} (commands: {COMMANDS})", word_preview(other))),
                });
            }
        }
    }
    cli.command = match (early, command) {
        (Some(c), _) => return Ok(Cli { command: c, ..cli }),
        (None, Some(c)) => c,
        (None, None) => return Err(format!("no command given (commands: {COMMANDS})")),
    };
    if cli.json && cli.command != Command::Token {
        return Err("--json applies to the token command only".into());
    }
    if cli.once && cli.command != Command::Maintain {
        return Err("--once applies to the maintain command only".into());
    }
    if (cli.out.is_some() || cli.jwks) != (cli.command == Command::Keygen) {
        return Err(if cli.command == Command::Keygen {
            "keygen needs --out PATH: the file to write the new private key to".into()
        } else {
            "--out and --jwks apply to the keygen command only".into()
        });
    }
    // maintain keeps a token file fresh, or the fleet's entry in Redis, or both.
    let fleet = cli.options.iter().any(|(n, v)| *n == "shared_cache_url" && !v.is_empty())
        || std::env::var("RAPIDATA_SHARED_CACHE_URL").is_ok_and(|v| !v.trim().is_empty());
    if cli.command == Command::Maintain && cli.token_file.is_none() && !fleet {
        return Err("maintain needs --token-file PATH (the file to keep a fresh token in) or a fleet cache to keep fresh \
                    (--shared-cache-url URL or RAPIDATA_SHARED_CACHE_URL)"
            .into());
    }
    if cli.token_file.is_some() && cli.no_token_file {
        return Err("--token-file and --no-token-file contradict each other".into());
    }
    if cli.no_browser && cli.command != Command::Login {
        return Err("--no-browser applies to the login command only".into());
    }
    if cli.options.iter().any(|(name, _)| *name == "login_timeout") && cli.command != Command::Login {
        return Err("--timeout applies to the login command only (for token requests see --deadline)".into());
    }
    match cli.command {
        // A login makes credentials; a logout names the stored client to remove, by id alone.
        Command::Login if cli.client_id.is_some() || cli.secret.is_some() => {
            return Err("login creates new credentials and takes no client id or secret".into())
        }
        Command::Logout if cli.secret.is_some() => return Err("logout takes --client-id alone (no secret): the stored client to remove".into()),
        Command::Login | Command::Logout => return Ok(cli),
        _ => {}
    }
    match (&cli.client_id, &cli.secret) {
        (Some(_), None) => {
            return Err("--client-id needs its secret or key: add --client-secret-file PATH, --client-secret-stdin or \
                        --client-key-file PATH (or set RAPIDATA_CLIENT_ID and RAPIDATA_CLIENT_SECRET instead)"
                .into())
        }
        (None, Some(SecretFrom::KeyFile(_))) => return Err("--client-key-file needs --client-id too".into()),
        (None, Some(_)) => return Err("a client secret option needs --client-id too".into()),
        _ => {}
    }
    Ok(cli)
}

fn set_valued(cli: &mut Cli, name: &str, value: String) -> Result<(), String> {
    if let Some(opt) = table_flag(name) {
        // Text that does not parse (a duration, a method name) is a usage error; what the
        // library refuses once parsed (an http issuer) is its status, when the client is made.
        raptoken::check_option_text(opt.name, &value).map_err(|e| format!("{name}: {}", e.message()))?;
        if opt.name == "proxy" && value.contains('@') {
            return Err("--proxy: a password on the command line is visible to every user of the machine; \
                        put the proxy URL with its credentials in HTTPS_PROXY instead"
                .into());
        }
        cli.options.push((opt.name, value));
        return Ok(());
    }
    match name {
        "--timeout" => {
            raptoken::check_option_text("login_timeout", &value).map_err(|e| format!("--timeout: {}", e.message()))?;
            cli.options.push(("login_timeout", value));
        }
        "--client-id" => cli.client_id = Some(value),
        "--client-secret-file" => set_secret(cli, SecretFrom::File(PathBuf::from(value)))?,
        "--client-key-file" => set_secret(cli, SecretFrom::KeyFile(value))?,
        "--out" => cli.out = Some(PathBuf::from(value)),
        "--token-file" => cli.token_file = Some(value),
        "--log" => {
            cli.log = Some(match value.to_ascii_lowercase().as_str() {
                "error" => LogLevel::Error,
                "warn" => LogLevel::Warn,
                "info" => LogLevel::Info,
                "debug" => LogLevel::Debug,
                _ => return Err(format!("--log: {} is not error, warn, info or debug", word_preview(&value))),
            })
        }
        "--progress" => {
            cli.progress = match value.as_str() {
                "auto" => Progress::Auto,
                "always" => Progress::Always,
                "never" => Progress::Never,
                _ => return Err(format!("--progress: '{}' is not auto, always or never", word_preview(&value))),
            }
        }
        _ => unreachable!("{name} is in VALUED"),
    }
    Ok(())
}

fn set_secret(cli: &mut Cli, from: SecretFrom) -> Result<(), String> {
    if cli.secret.is_some() {
        return Err("give the client secret or key once: --client-secret-file, --client-secret-stdin or --client-key-file".into());
    }
    cli.secret = Some(from);
    Ok(())
}

fn no_plain_secret() -> String {
    "there is no --client-secret VALUE: a command line is visible to every user of the machine (ps, \
     /proc/PID/cmdline) and lands in shell history. Use --client-secret-file PATH, --client-secret-stdin, \
     or the RAPIDATA_CLIENT_SECRET environment variable"
        .into()
}

/// Echo a word only if it looks like a mistyped command or keyword (short, lowercase letters),
/// never like something that could be a secret.
fn word_preview(s: &str) -> String {
    let plain = s.len() <= 16 && s.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '_');
    if plain {
        format!("'{s}'")
    } else {
        "(not shown)".into()
    }
}

impl Cli {
    /// The last value given to an option-table flag, e.g. `client_key_id` for `--client-key-id`.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// `logout --client-id ID`: the stored client to remove.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The library options this command line asks for. Reads the secret (file or stdin) here,
    /// so nothing is read for `--help`. Environment variables are applied by the library.
    pub fn client_options(&self) -> Result<ClientOptions, Failure> {
        let mut o = ClientOptions::new();
        match (&self.client_id, &self.secret) {
            // The library reads the key file (and checks its permissions) when the client is made.
            (Some(id), Some(SecretFrom::KeyFile(path))) => {
                o.set_client_id(id)?;
                o.set_client_key_file(path)?;
            }
            (Some(id), Some(from)) => {
                let secret = read_secret(from)?;
                o.set_client_id(id)?;
                o.set_client_secret(&secret)?;
            }
            _ => {}
        }
        for (name, value) in &self.options {
            o.set_text(name, value)?;
        }
        if let Some(on) = self.shared_cache {
            o.set_shared_cache(on);
        }
        if let Some(level) = self.log {
            o.set_logger(raptoken::Logger::new(level, |level, line| eprintln!("raptoken: {level:?}: {line}")));
        }
        // The maintainer writes the token file: it must exchange credentials, never read its own
        // output (nor RAPIDATA_TOKEN_FILE, which usually names that same file).
        if self.command == Command::Maintain || self.no_token_file {
            o.ignore_token_file();
        } else if let Some(v) = &self.token_file {
            o.set_token_file(v)?;
        }
        Ok(o)
    }
}

/// The option table's flags for `--help`: flag, value, what it does, and its variable.
pub fn options_help() -> String {
    let mut out = String::new();
    for o in OPTIONS {
        let OptCli::Flag(flag, meta) = o.cli else { continue };
        let left = if o.kind == Kind::Bool { flag.to_string() } else { format!("{flag} {meta}") };
        let summary = o.summary().replace('`', "");
        let env = match o.env {
            Env::Var(v) | Env::Special(v, _) => format!("; {v}"),
            Env::None => String::new(),
        };
        let text = format!("{summary} (default {}{env})", o.default.replace('`', ""));
        // Wrap the description at 100 columns, aligned after the flag.
        let mut line = format!("  {left:<31}");
        if line.len() > 33 {
            out.push_str(line.trim_end());
            out.push('\n');
            line = format!("{:33}", "");
        }
        for word in text.split_whitespace() {
            if line.len() + word.len() + 1 > 100 && line.trim().len() > 0 {
                out.push_str(line.trim_end());
                out.push('\n');
                line = format!("{:33}", "");
            }
            if !line.ends_with(' ') {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The first line of the file or of stdin, without its line ending.
fn read_secret(from: &SecretFrom) -> Result<Zeroizing<String>, Failure> {
    let text = match from {
        SecretFrom::File(path) => Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| Failure::Config(format!("cannot read the client secret file {}: {e}", path.display())))?,
        ),
        SecretFrom::Stdin => read_stdin_line()?,
        SecretFrom::KeyFile(_) => unreachable!("key files are read by the library"),
    };
    let line = Zeroizing::new(text.lines().next().unwrap_or("").to_string());
    if line.is_empty() {
        let place = match from {
            SecretFrom::File(p) => format!("the client secret file {}", p.display()),
            SecretFrom::Stdin | SecretFrom::KeyFile(_) => "standard input".into(),
        };
        return Err(Failure::Config(format!("{place} is empty: its first line must be the client secret")));
    }
    Ok(line)
}

fn read_stdin_line() -> Result<Zeroizing<String>, Failure> {
    let stdin = std::io::stdin();
    // At a terminal, prompt and turn echo off so the secret does not appear on screen.
    let tty = stdin.is_terminal();
    if tty {
        eprint!("client secret: ");
        stty("-echo");
    }
    let mut line = Zeroizing::new(String::new());
    let read = stdin.lock().read_line(&mut line);
    if tty {
        stty("echo");
        eprintln!();
    }
    read.map_err(|e| Failure::Config(format!("cannot read the client secret from standard input: {e}")))?;
    Ok(line)
}

fn stty(arg: &str) {
    // Best effort: without stty the secret is echoed, which is no worse than typing it anywhere.
    let _ = std::process::Command::new("stty").arg(arg).stdin(std::process::Stdio::inherit()).status();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Cli, String> {
        parse(args.iter().map(OsString::from).collect())
    }

    #[test]
    fn forms_and_errors() {
        let c = p(&["token", "--issuer=https://x", "--scope", "openid", "--json", "-q"]).unwrap();
        assert_eq!((c.command, c.json, c.progress), (Command::Token, true, Progress::Never));
        assert_eq!(c.options, vec![("issuer", "https://x".to_string()), ("scope", "openid".to_string())]);
        assert_eq!(p(&["check", "--help"]).unwrap().command, Command::Help);
        assert_eq!(p(&["-V"]).unwrap().command, Command::Version);
        assert!(p(&[]).is_err());
        assert!(p(&["token", "--nope"]).unwrap_err().contains("--nope"));
        assert!(p(&["token", "--scope"]).unwrap_err().contains("needs a value"));
        assert!(p(&["check", "--json"]).is_err());
        if std::env::var_os("RAPIDATA_SHARED_CACHE_URL").is_none() {
            assert!(p(&["maintain"]).unwrap_err().contains("--token-file"));
        }
        assert!(p(&["maintain", "--shared-cache-url", "redis://cache:6379"]).is_ok(), "keeps the fleet's entry fresh");
        assert!(p(&["token", "--once"]).is_err());
        assert!(p(&["keygen"]).unwrap_err().contains("--out"));
        assert!(p(&["token", "--jwks"]).unwrap_err().contains("keygen"));
        let c = p(&["keygen", "--out", "k.pem", "--jwks", "--client-key-id", "k1"]).unwrap();
        assert_eq!((c.command, c.out.as_deref(), c.jwks), (Command::Keygen, Some(std::path::Path::new("k.pem")), true));
        assert!(p(&["token", "--client-key-file", "k.pem"]).unwrap_err().contains("--client-id"));
        let c = p(&["token", "--client-id", "x", "--client-key-file", "k.pem"]).unwrap();
        assert_eq!(c.secret, Some(SecretFrom::KeyFile("k.pem".into())));
        assert!(p(&["token", "--client-id", "x", "--client-key-file", "k", "--client-secret-stdin"]).unwrap_err().contains("once"));
        assert!(p(&["maintain", "--token-file", "t.json", "--once"]).unwrap().once);
        let c = p(&["token", "--shared-cache=/tmp/c"]).unwrap();
        assert_eq!((c.shared_cache, c.options.clone()), (None, vec![("shared_cache_dir", "/tmp/c".to_string())]));
        assert_eq!(p(&["token", "--shared-cache"]).unwrap().shared_cache, Some(true));
        assert!(p(&["token", "--client-id", "x"]).unwrap_err().contains("--client-secret-file"));
        let e = p(&["token", "--client-secret=hunter2-very-secret"]).unwrap_err();
        assert!(e.contains("--client-secret-file") && !e.contains("hunter2"), "{e}");
        let e = p(&["token", "extra/secret+value"]).unwrap_err();
        assert!(!e.contains("secret+value"), "{e}");
    }

    #[test]
    fn login_and_logout() {
        let c = p(&["login", "--environment", "rabbitdata.ch", "--no-browser", "--timeout", "90s"]).unwrap();
        assert_eq!((c.command, c.no_browser), (Command::Login, true));
        assert_eq!(c.options, vec![("environment", "rabbitdata.ch".to_string()), ("login_timeout", "90s".to_string())]);
        assert!(p(&["login", "--timeout", "soon"]).unwrap_err().contains("--timeout"));
        assert!(p(&["token", "--timeout", "5s"]).unwrap_err().contains("login command only"));
        assert!(p(&["token", "--no-browser"]).is_err());
        assert!(p(&["login", "--client-id", "x"]).unwrap_err().contains("no client id"));
        let c = p(&["logout", "--client-id", "abc"]).unwrap();
        assert_eq!((c.command, c.client_id()), (Command::Logout, Some("abc")));
        assert!(p(&["logout", "--client-id", "abc", "--client-secret-stdin"]).is_err());
        assert!(p(&["lgin"]).unwrap_err().contains("login, logout"));
    }

    #[test]
    fn every_setter_has_a_flag_or_says_why_not() {
        // The option table decides; this checks the CLI honours it.
        for o in OPTIONS {
            match o.cli {
                OptCli::Flag(flag, _) => assert!(table_flag(flag).is_some(), "{flag}"),
                OptCli::Special(flags) => {
                    for f in flags.split([',', ' ']).filter(|w| w.starts_with("--")) {
                        assert!(VALUED.contains(&f) || ["--client-secret-stdin", "--shared-cache", "--no-shared-cache", "--no-token-file"].contains(&f), "{f}");
                    }
                }
                OptCli::None(why) => assert!(!why.is_empty(), "{}: no flag and no reason", o.name),
            }
        }
        let c = p(&["token", "--deadline", "5s", "--max-attempts=2", "--retry-backoff", "100ms,2s", "--trust", "system", "--max-retry-after", "1m", "--log", "debug"]).unwrap();
        assert_eq!(c.options.len(), 5);
        assert_eq!(c.log, Some(LogLevel::Debug));
        assert!(p(&["token", "--deadline", "soon"]).unwrap_err().contains("--deadline"));
        assert!(p(&["token", "--trust", "nobody"]).unwrap_err().contains("--trust"));
        let e = p(&["token", "--proxy", "http://u:proxy-pass@p:3128"]).unwrap_err();
        assert!(e.contains("HTTPS_PROXY") && !e.contains("proxy-pass"), "{e}");
        assert!(options_help().contains("--connect-timeout DURATION"));
    }
}
