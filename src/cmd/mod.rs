//! One module per subcommand, over the shared library.

pub mod assess;
pub mod generate;
pub mod validate;
pub mod verify;
