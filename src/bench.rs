//! Entry points for the benchmarks in `benches/` (`cargo bench`), which can
//! reach only the public surface: not an API, hidden from the docs.

use std::collections::BTreeMap;
use std::path::Path;

use crate::konduktor::digest_key::{DigestKey, KeySource};
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{self, DesiredSecret, LiveSecret, SecretKind};
use crate::secrets::manifest::Desired;

const OWNER: &str = "abba3a3e";

/// What the pure plan compares: a manifest's secrets and the live ones.
pub struct PlanInput {
    desired: Vec<Desired>,
    live: Vec<LiveSecret>,
}

fn data(i: usize, changed: bool) -> BTreeMap<String, SecretBytes> {
    let token = if changed { "changed" } else { "token" };
    BTreeMap::from([
        (
            "TOKEN".to_string(),
            SecretBytes::new(format!("{token}-{i:06}").into_bytes()),
        ),
        ("MODE".to_string(), SecretBytes::new(b"prod".to_vec())),
    ])
}

/// `n` env secrets in the manifest, all live already: a tenth with one
/// value changed, the rest unchanged (the common re-apply).
pub fn plan_input(n: usize) -> PlanInput {
    let name = |i: usize| format!("s{i:06}");
    let desired = (0..n)
        .map(|i| {
            Desired::Present(DesiredSecret {
                basename: name(i),
                kind: SecretKind::Env,
                data: data(i, i % 10 == 0),
                origins: BTreeMap::new(),
            })
        })
        .collect();
    let live = (0..n)
        .map(|i| LiveSecret {
            name: konduktor::object_name(&name(i), OWNER),
            uid: Some(format!("uid-{i}")),
            resource_version: Some(format!("{}", 1000 + i)),
            created: None,
            labels: konduktor::labels(&name(i), SecretKind::Env, OWNER),
            // As this tool's last write left it.
            annotations: BTreeMap::from([(
                konduktor::ANNOTATION_APPLIED.to_string(),
                konduktor::applied_annotation(&konduktor::applied_record(
                    &bench_key(),
                    &konduktor::object_name(&name(i), OWNER),
                    &data(i, false),
                )),
            )]),
            data: data(i, false),
            ..LiveSecret::default()
        })
        .collect();
    PlanInput { desired, live }
}

/// A fixed digest key (the real one is read once per run).
fn bench_key() -> DigestKey {
    DigestKey::from_bytes([7; 32], KeySource::Env)
}

/// The plan for `input`, with the digest key, and the `applied` record
/// each merge would write: the number of secrets it would write and of
/// entries recorded.
pub fn plan(input: &PlanInput) -> usize {
    let key = bench_key();
    let plan =
        crate::secrets::plan::plan_with_key(&input.desired, &input.live, OWNER, false, Some(&key));
    let records: usize = plan
        .secrets
        .iter()
        .filter(|s| s.action() == crate::secrets::plan::Action::Merge)
        .map(|s| s.applied_after(Some(&key)).len())
        .sum();
    plan.summary.create + plan.summary.merge + plan.summary.delete + records
}

/// Zip `dir` as a `--from-directory` secret is zipped: the archive's size.
pub fn zip_directory(dir: &Path) -> usize {
    crate::secrets::manifest::sources::zip_directory(dir, 64 << 20)
        .map(|zip| zip.expose().len())
        .unwrap_or(0)
}
