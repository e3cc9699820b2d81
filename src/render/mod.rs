//! `render-job`'s core: a Konduktor task file ([`task`]) and the Job it
//! runs as, with the caller's secrets injected ([`inject`]).

pub mod inject;
pub mod task;
