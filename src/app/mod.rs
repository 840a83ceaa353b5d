//! The console as a pure state machine: keys become Actions (`keymap`), `update` applies them to
//! `State` and returns Effects; the runner performs those and feeds their answers back as Actions.

pub mod action;
pub mod bulk;
pub mod bulk_errors;
pub mod clash;
pub mod command;
pub mod copy;
mod dialogs;
pub mod drafts;
pub mod editor;
pub mod export;
pub mod flows;
pub mod form;
#[cfg(test)]
mod fuzz;
pub mod keymap;
pub mod keys;
pub mod mouse;
pub mod names;
pub mod order;
pub mod picker;
pub mod records;
pub mod state;
pub mod stats;
pub mod text;
pub mod triage;
pub mod update;
pub mod writes;

pub use action::{Action, Effect, RequestId};
pub use state::State;
pub use update::update;
