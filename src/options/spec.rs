// The shape of one row of the option table (table.rs). Plain data with no dependencies, because
// build.rs includes this file and table.rs as they are: from the same rows it generates the C
// setters (src/ffi/options_gen.rs), the text parser the environment and the CLI go through
// (src/options/apply_gen.rs) and the table in docs/configuration.md. The library reads the rows
// at run time for environment variables, CLI flags and help.

/// One option of `RapidataOptions` / `ClientOptions`.
pub struct Opt {
    /// snake_case. The Rust setter is `ClientOptions::set_<name>`, the C setter
    /// `rapidata_options_set_<name>` (with `_ms` for durations) or `rapidata_options_add_<name>`
    /// for options that take several values.
    pub name: &'static str,
    pub kind: Kind,
    /// The C setter's value parameters, in order.
    pub params: &'static [&'static str],
    /// What the option does, for every language: the first sentence is the summary in the docs
    /// table; C-specific sentences (statuses, ownership) are added by the generator.
    pub doc: &'static str,
    /// What the setter refuses beyond NULL and invalid UTF-8 (INVALID_ARGUMENT), or "".
    pub refuses: &'static str,
    /// The default, as the docs table shows it.
    pub default: &'static str,
    pub env: Env,
    pub cli: Cli,
}

impl Opt {
    /// The first sentence of `doc` ("e.g." does not end one), without its period and without a
    /// leading "Sets ": what the docs table and `--help` show.
    pub fn summary(&self) -> String {
        let mut end = self.doc.len();
        let mut from = 0;
        while let Some(i) = self.doc[from..].find(". ") {
            let at = from + i;
            if !self.doc[..at].ends_with("e.g") && !self.doc[..at].ends_with("i.e") {
                end = at;
                break;
            }
            from = at + 2;
        }
        let first = self.doc[..end].trim_end_matches('.');
        match first.strip_prefix("Sets ") {
            Some(rest) => rest[..1].to_uppercase() + &rest[1..],
            None => first.to_string(),
        }
    }
}

/// How the value crosses the C ABI, and how the text of an environment variable or a CLI
/// flag is parsed into it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A UTF-8 string (`const char *`).
    Text,
    /// A string that must never be logged (wiped by the bindings after the call).
    Secret,
    /// A string that adds one value to a list (`rapidata_options_add_<name>`).
    TextList,
    /// Two strings, a name and a value, added to a list (`rapidata_options_add_<name>`).
    TextPair,
    /// A duration, in milliseconds as a `uint32_t`; text like `10s`, `500ms`, `2m`.
    Millis,
    /// Two durations (`*_ms` parameters); text `BASE,MAX`.
    MillisPair,
    /// A `bool`; text `1/true/yes/on` or `0/false/no/off`.
    Bool,
    /// A `uint32_t` count.
    Count,
    /// A C enum passed as `uint32_t` (so an unknown value is an error, not undefined
    /// behaviour): the C type's name, and the Rust type, which implements `options::CValue`.
    Enum(&'static str, &'static str),
    /// A set of C flags (`uint32_t`) combined with `|`; text `a,b`. C type and Rust type (`CValue`).
    Flags(&'static str, &'static str),
    /// Written by hand in src/ffi (e.g. a callback): nothing is generated.
    Custom,
}

/// Which environment variable sets the option when the program does not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Env {
    None,
    /// Applied through the same setter, so its value gets the same checks (errors are CONFIG
    /// and name the variable).
    Var(&'static str),
    /// Read by options/resolve.rs because it interacts with other options (the text says how).
    Special(&'static str, &'static str),
}

/// How the `raptoken` command sets the option.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cli {
    /// `--flag VALUE` (or `--flag` alone for a `Bool`), parsed like the environment variable.
    Flag(&'static str, &'static str),
    /// Flags the CLI handles itself (listed for the docs and the check that they exist).
    Special(&'static str),
    /// No flag, and why.
    None(&'static str),
}
