//! One module per subcommand, over the shared library.

pub mod assess;
pub mod compare;
pub mod extract;
pub mod generate;
pub mod validate;
pub mod verify;
