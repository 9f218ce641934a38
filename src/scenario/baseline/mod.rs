//! The Rust worlds that the shipped world files replaced (music, tutoring, web, bnpl), kept
//! only as the baselines of `cargo bench --bench worlds`: issue 11 asks each file to reach
//! 0.5 of its Rust twin's speed before the twin is deleted, and that is measured in one run.
//! No name resolves to them (`--scenario music` runs `worlds/music.yaml`), they take their
//! own default settings, and the bench writes their master data with `write_master`. Delete
//! this folder once every file world reaches 0.5 (bench/worlds-figures.md).

pub mod bnpl;
pub mod music;
pub mod tutoring;
pub mod web;
