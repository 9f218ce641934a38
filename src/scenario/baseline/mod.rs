//! The Rust world that a shipped world file replaced (tutoring), kept only as the baseline of
//! `cargo bench --bench worlds`: issue 11 asks each file to reach 0.5 of its Rust twin's speed
//! before the twin is deleted, and that is measured in one run. No name resolves to it
//! (`--scenario tutoring` runs `worlds/tutoring.yaml`), it takes its own default settings, and
//! the bench writes its master data with `write_master`. Music's, bnpl's and web's twins were
//! deleted once their files cleared 0.5 (bench/worlds-figures.md); delete this one the same
//! way.

pub mod tutoring;
