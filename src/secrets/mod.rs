//! The declarative and imperative workflows on a user's secrets, in the
//! order data flows: [`manifest`] (parse, validate, load `secrets.yaml`),
//! [`sources`] (files, folders, inline pairs into data), [`plan`] (a pure
//! function of desired and live state), [`view`] (showing a plan and its
//! outcome), [`execute`] (carrying it out, conditionally).

pub mod execute;
pub mod manifest;
pub mod plan;
pub mod sources;
pub mod view;
