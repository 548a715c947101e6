//! Where the iDenfy production API is: the client's default root and the
//! configured backend when credentials come without a base URL. A leaf, so
//! that `config` and `idenfy` share it without importing each other.

/// The production API root.
pub const PRODUCTION_BASE_URL: &str = "https://ivs.idenfy.com";
