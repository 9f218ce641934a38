//! The Rust worlds that the shipped world files replaced (tutoring, web), kept only as
//! the baselines of `cargo bench --bench worlds`: issue 11 asks each file to reach 0.5 of its
//! Rust twin's speed before the twin is deleted, and that is measured in one run. No name
//! resolves to them (`--scenario web` runs `worlds/web.yaml`), they take their own default
//! settings, and the bench writes their master data with `write_master`. Music's and bnpl's
//! twins were deleted once their files cleared 0.5 (bench/worlds-figures.md); delete each of
//! the others the same way.

pub mod tutoring;
pub mod web;
