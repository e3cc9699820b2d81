use super::*;
use crate::secrets::plan::tests::{ME, live};
use crate::secrets::store::fake::{Call, FakeStore};

const CANARY: &str = "canary-90aa1c";

/// The fake store's LIST (recorded as a call), cut down to listings as the
/// cluster's paged reader does.
impl SecretLister for FakeStore {
    async fn list_listings(&self, selector: Option<&str>) -> Result<Vec<SecretListing>> {
        use crate::secrets::store::SecretStore;
        let live = SecretStore::list(self, selector).await?;
        Ok(live.iter().map(SecretListing::from_live).collect())
    }

    /// A LIST of everything (recorded as `List(None)`), keys left out as a
    /// metadata-only LIST leaves them.
    async fn list_metadata(&self) -> Result<Vec<SecretListing>> {
        use crate::secrets::store::SecretStore;
        let live = SecretStore::list(self, None).await?;
        Ok(live
            .iter()
            .map(|s| SecretListing {
                key_sizes: Default::default(),
                secret_type: None,
                ..SecretListing::from_live(s)
            })
            .collect())
    }
}

fn store() -> FakeStore {
    let mut plain = live("zz", ME, "env", &[("K", CANARY)]);
    plain.name = "aa-plain".into();
    plain.labels.clear();
    FakeStore::new(vec![
        live("b", ME, "env", &[("K2", CANARY), ("K1", CANARY)]),
        live("a", "8417fdac", "default", &[("f", CANARY)]),
        live("a", ME, "git-ssh", &[("gitkey", CANARY)]),
        plain,
    ])
}

fn rows(items: &[ListedSecret]) -> Vec<(&str, &str, Option<&str>, Option<&str>)> {
    items
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.secret_name.as_str(),
                s.kind.as_deref(),
                s.owner.as_deref(),
            )
        })
        .collect()
}

#[tokio::test]
async fn mine_are_selected_by_the_server_and_sorted() {
    let store = store();
    let items = list(&store, ME, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.calls(),
        [Call::List(Some(format!("trainy.ai/secret-owner={ME}")))]
    );
    assert_eq!(
        rows(&items),
        [
            ("a", "a-abba3a3e", Some("git-ssh"), Some(ME)),
            ("b", "b-abba3a3e", Some("env"), Some(ME)),
        ]
    );
    assert_eq!(
        items.get(1).map(|s| s.keys.clone()),
        Some(Some(vec!["K1".into(), "K2".into()]))
    );
}

#[tokio::test]
async fn all_users_shows_every_secret_and_no_values() {
    let store = store();
    let items = list(&store, ME, true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Everything as metadata, then mine with their key names.
    assert_eq!(
        store.calls(),
        [
            Call::List(None),
            Call::List(Some(format!("trainy.ai/secret-owner={ME}")))
        ]
    );
    assert_eq!(
        rows(&items),
        [
            ("a", "a-8417fdac", Some("default"), Some("8417fdac")),
            ("a", "a-abba3a3e", Some("git-ssh"), Some(ME)),
            ("aa-plain", "aa-plain", None, None),
            ("b", "b-abba3a3e", Some("env"), Some(ME)),
        ]
    );
    // Key names of mine only: the others' were never read.
    let keys: Vec<Option<Vec<String>>> = items.iter().map(|s| s.keys.clone()).collect();
    assert_eq!(
        keys,
        [
            None,
            Some(vec!["gitkey".into()]),
            None,
            Some(vec!["K1".into(), "K2".into()])
        ]
    );
    let json = serde_json::to_string(&items).unwrap_or_else(|e| panic!("{e}"));
    assert!(!json.contains(CANARY), "{json}");
}

/// A server that ignores the owner selector: others' secrets are neither
/// listed as mine nor shown with their key names.
#[tokio::test]
async fn what_the_owner_list_returns_is_checked_never_trusted() {
    let store = store().ignoring_selectors();
    let items = list(&store, ME, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows(&items),
        [
            ("a", "a-abba3a3e", Some("git-ssh"), Some(ME)),
            ("b", "b-abba3a3e", Some("env"), Some(ME)),
        ]
    );
    let items = list(&store, ME, true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let theirs: Vec<_> = items
        .iter()
        .filter(|s| s.owner.as_deref() != Some(ME))
        .map(|s| (s.secret_name.as_str(), s.keys.clone()))
        .collect();
    assert_eq!(theirs, [("a-8417fdac", None), ("aa-plain", None)]);
}

#[tokio::test]
async fn konduktors_own_rows_are_marked_with_what_they_are() {
    use crate::secrets::plan::tests::konduktor_made;
    let store = FakeStore::new(vec![
        konduktor_made(
            "awscredentials-root-1a2b",
            Some("S3"),
            &[("awscredentials", CANARY)],
        ),
        konduktor_made("konduktor-ssh-keys-abba3a3e", None, &[("PRIVKEY", CANARY)]),
        live("b", ME, "env", &[("K", CANARY)]),
    ]);
    let rows = list(&store, ME, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let marks: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.konduktor_own.as_ref().map(|o| o.what)))
        .collect();
    assert_eq!(
        marks,
        [
            ("awscredentials-root-1a2b", Some("storageCredentials")),
            ("b", None),
            ("konduktor-ssh-keys-abba3a3e", Some("sshKeys")),
        ]
    );
    let json = serde_json::to_value(&rows).unwrap_or_default();
    assert_eq!(
        json[0]["konduktorOwn"]["description"],
        "storage credentials (S3), made by `konduktor check s3`"
    );
    assert_eq!(json[1]["konduktorOwn"], serde_json::Value::Null);
    assert!(!json.to_string().contains(CANARY));
}
