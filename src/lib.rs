//! referee: a keyboard-driven terminal console for referral programs.
//!
//! Layers (data flows one way): `api` talks HTTP, `domain` holds backend-neutral records and their
//! schema, `app` is the pure state machine, `ui` renders it, `sandbox` is the local API server.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod effects;
pub mod export;
pub mod headless;
pub mod interrupt;
pub mod redact;
pub mod runtime;
pub mod sandbox;
pub mod store;
pub mod text_safety;
pub mod ui;
