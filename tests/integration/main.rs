//! Integration tests: one binary, one module per area.

mod camera;
mod cli;
