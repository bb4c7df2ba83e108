//! The files a client reads credentials or tokens from, in the formats Rapidata's SDK uses:
//! the credentials file (client id and secret per auth server) and the token file (a ready
//! token another process keeps fresh). Reading, parsing and writing only; when each is used is
//! decided above (options/chain.rs, client/).

pub(crate) mod credentials;
pub(crate) mod token_file;
