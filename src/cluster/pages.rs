//! Reading one page of a Secret LIST as listings: the body is parsed as it
//! arrives, and each value is measured and dropped on the spot. A page of
//! 500 secrets of 50 KB is 33 MB of JSON; read whole (as kube's `list`
//! does, twice over while it copies the body), it would cost that much
//! again for every page. Here it costs one read buffer, and the values
//! longer than [`short_strings::LONG`] are skipped before the parser sees
//! them (it would read them a byte at a time).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufReader, Read};

use futures::FutureExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::errors::{OVER_CAP, OverCap};
use super::short_strings::{self, ShortStrings};
use crate::konduktor::SecretListing;

/// Objects per page of a LIST: kubectl's `--chunk-size` default. Neither
/// the server nor we hold a whole namespace of other people's secrets at
/// once.
pub const LIST_PAGE: u32 = 500;

/// How much of the body is read at a time.
const READ_BUFFER: usize = 64 * 1024;

/// One page: its items, and the token of the next page if there is one.
pub(super) struct ListingPage {
    pub items: Vec<SecretListing>,
    pub next: Option<String>,
}

/// An item of a metadata-only LIST (`PartialObjectMetadata`).
#[derive(Deserialize)]
pub(super) struct MetadataItem {
    #[serde(default)]
    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
}

/// A page as read: its items (`null` or none as empty) and its token.
struct Page<K> {
    items: Vec<K>,
    next: Option<String>,
}

/// How a page is read: item by item, refused once it holds more items
/// than were `asked` for (its `limit`). A real API server never sends more;
/// a hostile one could send millions of `{}` in a few MB, and each costs
/// far more held than sent, so the count is checked as each one arrives,
/// not once the page is whole.
struct PageSeed<K> {
    asked: usize,
    item: PhantomData<fn() -> K>,
}

impl<K> PageSeed<K> {
    fn new(asked: usize) -> Self {
        PageSeed {
            asked,
            item: PhantomData,
        }
    }
}

/// The fields of a page this tool reads; the rest are skipped.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum PageField {
    Metadata,
    Items,
    #[serde(other)]
    Other,
}

impl<'de, K: Deserialize<'de>> DeserializeSeed<'de> for PageSeed<K> {
    type Value = Page<K>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Page<K>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, K: Deserialize<'de>> Visitor<'de> for PageSeed<K> {
    type Value = Page<K>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a page of a list")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page<K>, A::Error> {
        let mut meta: Option<PageMeta> = None;
        let mut items: Option<Vec<K>> = None;
        while let Some(field) = map.next_key::<PageField>()? {
            match field {
                PageField::Metadata if meta.is_some() => {
                    return Err(de::Error::duplicate_field("metadata"));
                }
                PageField::Metadata => meta = Some(map.next_value()?),
                // A second `items` would hold as many again.
                PageField::Items if items.is_some() => {
                    return Err(de::Error::duplicate_field("items"));
                }
                PageField::Items => {
                    items = Some(map.next_value_seed(ItemsSeed::<K>::new(self.asked))?);
                }
                PageField::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(Page {
            items: items.unwrap_or_default(),
            next: meta.unwrap_or_default().next,
        })
    }
}

/// A page's `items`: at most `asked` of them, else an error.
struct ItemsSeed<K>(PageSeed<K>);

impl<K> ItemsSeed<K> {
    fn new(asked: usize) -> Self {
        ItemsSeed(PageSeed::new(asked))
    }
}

impl<'de, K: Deserialize<'de>> DeserializeSeed<'de> for ItemsSeed<K> {
    type Value = Vec<K>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<K>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, K: Deserialize<'de>> Visitor<'de> for ItemsSeed<K> {
    type Value = Vec<K>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of items")
    }
    fn visit_unit<E>(self) -> Result<Vec<K>, E> {
        Ok(Vec::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<K>, A::Error> {
        let asked = self.0.asked;
        let mut items = Vec::new();
        loop {
            if items.len() >= asked {
                // One more, skipped unread, is one too many.
                return match seq.next_element::<de::IgnoredAny>()? {
                    None => Ok(items),
                    Some(_) => Err(de::Error::custom(format!(
                        "{TOO_MANY} {asked} items, when this tool asked for {asked} (a real API server never sends more than it is asked for)"
                    ))),
                };
            }
            match seq.next_element::<K>()? {
                Some(item) => items.push(item),
                None => return Ok(items),
            }
        }
    }
}

/// The text of the error a page of more items than asked for ends in.
pub(super) const TOO_MANY: &str = "the server sent a page of the list with more than";

/// The items asked for in a page with `params`.
fn asked(params: &kube::api::ListParams) -> usize {
    usize::try_from(params.limit.unwrap_or(LIST_PAGE)).unwrap_or(usize::MAX)
}

/// Read a page of `K` from `body`, at most `asked` items of it.
fn parse_page<K: de::DeserializeOwned>(
    body: impl Read,
    asked: usize,
) -> Result<Page<K>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(READ_BUFFER, body));
    let page = PageSeed::new(asked).deserialize(&mut de)?;
    de.end()?;
    Ok(page)
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    metadata: ItemMeta,
    #[serde(default)]
    data: KeySizes,
    #[serde(default, rename = "type")]
    secret_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ItemMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    creation_timestamp: Option<Time>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    deletion_timestamp: Option<Time>,
    #[serde(default)]
    finalizers: Option<Vec<String>>,
}

/// `data`, read as key -> decoded size: each base64 value is measured
/// where the parser holds it and never kept.
#[derive(Default)]
struct KeySizes(BTreeMap<String, u64>);

impl<'de> Deserialize<'de> for KeySizes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = KeySizes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of key names to base64 values")
            }
            fn visit_unit<E>(self) -> Result<KeySizes, E> {
                Ok(KeySizes::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeySizes, A::Error> {
                let mut sizes = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let Size(size) = map.next_value()?;
                    sizes.insert(key, size);
                }
                Ok(KeySizes(sizes))
            }
        }
        d.deserialize_any(Keys)
    }
}

/// The decoded size of one base64 value.
struct Size(u64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Measure;
        impl Visitor<'_> for Measure {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a base64 value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Size, E> {
                // A long value arrives as its size (see short_strings).
                Ok(Size(
                    short_strings::marker_size(v).unwrap_or_else(|| base64_decoded_len(v)),
                ))
            }
            fn visit_unit<E>(self) -> Result<Size, E> {
                Ok(Size(0))
            }
        }
        d.deserialize_any(Measure)
    }
}

/// What `text` decodes to, in bytes, padded or not.
pub(super) fn base64_decoded_len(text: &str) -> u64 {
    let text = text.trim_end_matches('=');
    let len = u64::try_from(text.len()).unwrap_or(u64::MAX);
    len.saturating_mul(3) / 4
}

/// The response body as a blocking reader, for the parser on a blocking
/// thread: each read waits on the runtime for the next bytes, and stops
/// with an error once the caller gave up (`cancel` dropped, e.g. on a
/// request timeout), so the thread never outlives the request.
pub(super) struct BlockingBody<R> {
    body: R,
    runtime: tokio::runtime::Handle,
    cancel: futures::channel::oneshot::Receiver<()>,
}

impl<R: futures::io::AsyncRead + Unpin> Read for BlockingBody<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut read = futures::io::AsyncReadExt::read(&mut self.body, buf).fuse();
        let mut cancel = (&mut self.cancel).fuse();
        self.runtime.block_on(async {
            futures::select_biased! {
                r = read => r,
                _ = cancel => Err(std::io::Error::other("the list was abandoned")),
            }
        })
    }
}

/// The most bytes of one LIST page read into objects whole (the caller's
/// own secrets, values and all; metadata): past it the read stops, so what
/// a server sends costs at most this much, however large its page. A page
/// of [`SMALL_PAGE`] Secrets always fits: 2 MiB each covers the 1 MiB of
/// data Kubernetes allows, in base64, with its metadata.
pub(super) const MAX_PAGE_BYTES: u64 = 64 << 20;

/// The page asked for again, at this size, when one of
/// [`LIST_PAGE`] was over [`MAX_PAGE_BYTES`]: large secrets, not
/// a hostile server, may have made it so.
pub(super) const SMALL_PAGE: u32 = 32;

/// Why a page read stopped at [`MAX_PAGE_BYTES`].
#[derive(Debug)]
struct PageTooLarge;

impl fmt::Display for PageTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "its page is over {} MiB", MAX_PAGE_BYTES >> 20)
    }
}

impl std::error::Error for PageTooLarge {}

/// The text of the error a page over [`MAX_PAGE_BYTES`] ends in.
pub(super) const TOO_LARGE: &str = "the server sent a page of the list over";

/// Is this the error of a page over [`MAX_PAGE_BYTES`]?
pub(super) fn is_too_large(e: &kube::Error) -> bool {
    matches!(OverCap::of(e), Some(OverCap::Page(_)))
}

/// A page read with `params` by `get`, asked for again in a page of
/// [`SMALL_PAGE`] when it was over [`MAX_PAGE_BYTES`]: large secrets, not a
/// hostile server, may have made it so.
pub(super) async fn or_smaller<T, F, Fut>(
    params: &kube::api::ListParams,
    mut get: F,
) -> Result<T, kube::Error>
where
    F: FnMut(kube::api::ListParams) -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    match get(params.clone()).await {
        Err(e) if is_too_large(&e) && params.limit.is_some_and(|l| l > SMALL_PAGE) => {
            crate::log::log(1, || {
                format!(
                    "a page of {} secrets was over {} MiB: asking again for {SMALL_PAGE}",
                    params.limit.unwrap_or_default(),
                    MAX_PAGE_BYTES >> 20,
                )
            });
            get(params.clone().limit(SMALL_PAGE)).await
        }
        other => other,
    }
}

/// A reader that gives at most `left` bytes, and an error (not an end)
/// where there would have been more.
pub(super) struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R> Capped<R> {
    pub(super) fn new(inner: R, cap: u64) -> Self {
        Capped { inner, left: cap }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(PageTooLarge)),
            };
        }
        let most = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let got = self.inner.read(buf.get_mut(..most).unwrap_or_default())?;
        self.left -= u64::try_from(got).unwrap_or(self.left);
        Ok(got)
    }
}

/// A response body as it arrives.
type PageBody = std::pin::Pin<Box<dyn futures::io::AsyncRead + Send>>;

/// Send `request` (a LIST page) and hand its body, as a blocking reader, to
/// `parse` on a blocking thread as it arrives: nothing holds the whole
/// body. Failures in kube's terms: a page over [`MAX_PAGE_BYTES`] (when
/// `parse` caps its reader) or bad JSON is a [`kube::Error::SerdeError`]
/// whose text names no value; a connection lost mid-body, a failure to
/// reach the server.
async fn streamed_page<T, P>(
    client: &kube::Client,
    request: http::Request<Vec<u8>>,
    parse: P,
) -> Result<T, kube::Error>
where
    T: Send + 'static,
    P: FnOnce(BlockingBody<PageBody>) -> Result<T, serde_json::Error> + Send + 'static,
{
    let body: PageBody = Box::pin(client.request_stream(request).await?);
    let runtime = tokio::runtime::Handle::current();
    // Dropped with this future: the reader then stops.
    let (_keep, cancel) = futures::channel::oneshot::channel::<()>();
    let parse = tokio::task::spawn_blocking(move || {
        parse(BlockingBody {
            body,
            runtime,
            cancel,
        })
    });
    match parse.await {
        Ok(Ok(page)) => Ok(page),
        Ok(Err(e)) if e.is_io() => {
            let io = std::io::Error::from(e);
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<PageTooLarge>().is_some())
            {
                return Err(OverCap::Page(format!(
                    "{TOO_LARGE} {} MiB, {} at once",
                    MAX_PAGE_BYTES >> 20,
                    OVER_CAP
                ))
                .into_kube());
            }
            // A connection lost mid-body is a failure to reach the server,
            // not bad JSON (serde's own text for it names no value).
            Err(kube::Error::Service(Box::new(std::io::Error::other(
                io.to_string(),
            ))))
        }
        Ok(Err(e)) => Err(too_many_or_parse_error(e)),
        Err(_) => Err(kube::Error::Service(Box::new(std::io::Error::other(
            "the list reader stopped",
        )))),
    }
}

/// Our own error of a page of too many items (serde carries only text
/// out of a visitor: it is told here, where it was made, by its own
/// opening words) as a typed [`OverCap`], without serde's line and column;
/// any other parse error as it is (its text may quote a value, and
/// `text::kube_error_text` leaves that out).
fn too_many_or_parse_error(e: serde_json::Error) -> kube::Error {
    let text = e.to_string();
    match text.strip_prefix(TOO_MANY) {
        Some(rest) => {
            let rest = rest.rsplit_once(" at line ").map_or(rest, |(head, _)| head);
            OverCap::TooMany(format!("{TOO_MANY}{rest}")).into_kube()
        }
        None => kube::Error::SerdeError(e),
    }
}

/// GET one page of the LIST at `url` (its `params` carry `limit` and
/// `continue`) and read it as listings.
pub(super) async fn listing_page(
    client: &kube::Client,
    url: &str,
    params: &kube::api::ListParams,
) -> Result<ListingPage, kube::Error> {
    let request = kube::core::Request::new(url)
        .list(params)
        .map_err(kube::Error::BuildRequest)?;
    let asked = asked(params);
    streamed_page(client, request, move |body| read_page(body, asked)).await
}

/// GET one page of the LIST at `url` and read it as objects whole (a
/// Secret's values, or a metadata-only list's items with
/// `metadata_only`), as it arrives and at most [`MAX_PAGE_BYTES`] of it:
/// its items, and the token of the next page.
pub(super) async fn object_page<K>(
    client: &kube::Client,
    url: &str,
    params: &kube::api::ListParams,
    metadata_only: bool,
) -> Result<(Vec<K>, Option<String>), kube::Error>
where
    K: serde::de::DeserializeOwned + Send + 'static,
{
    let request = kube::core::Request::new(url);
    let request = if metadata_only {
        request.list_metadata(params)
    } else {
        request.list(params)
    }
    .map_err(kube::Error::BuildRequest)?;
    let asked = asked(params);
    streamed_page(client, request, move |body| {
        let page: Page<K> = parse_page(Capped::new(body, MAX_PAGE_BYTES), asked)?;
        Ok((page.items, page.next.filter(|t| !t.is_empty())))
    })
    .await
}

/// Read one page from `body` as it arrives, as listings: at most
/// [`MAX_PAGE_BYTES`] of it as sent and `asked` items, values longer than
/// [`short_strings::LONG`] skipped before the parser sees them.
fn read_page(body: impl Read, asked: usize) -> Result<ListingPage, serde_json::Error> {
    let page: Page<Item> = parse_page(ShortStrings::new(Capped::new(body, MAX_PAGE_BYTES)), asked)?;
    if let Some(field) = page.items.iter().find_map(overlong_field) {
        return Err(serde::de::Error::custom(format!(
            "the server sent a secret whose {field} is over {} bytes long, which Kubernetes does not allow",
            short_strings::LONG
        )));
    }
    if page.next.as_deref().is_some_and(is_marker) {
        return Err(serde::de::Error::custom(format!(
            "the server sent a page token over {} bytes long",
            short_strings::LONG
        )));
    }
    Ok(ListingPage {
        items: page
            .items
            .into_iter()
            .map(|item| SecretListing {
                name: item.metadata.name.unwrap_or_default(),
                created: item.metadata.creation_timestamp.map(|t| t.0),
                labels: item.metadata.labels.unwrap_or_default(),
                key_sizes: item.data.0,
                secret_type: item.secret_type,
                terminating: crate::konduktor::Terminating::of(
                    item.metadata.deletion_timestamp.map(|t| t.0),
                    item.metadata.finalizers,
                ),
            })
            .collect(),
        next: page.next.filter(|t| !t.is_empty()),
    })
}

/// A string [`short_strings`] cut out for its length.
fn is_marker(text: &str) -> bool {
    text.starts_with(short_strings::MARKER)
}

/// Which field of `item` came as a marker, where a name was due: names,
/// labels, key names, the type and finalizers are all short in Kubernetes
/// (at most 253 bytes, or 63), so one over [`short_strings::LONG`] is not
/// a Secret a real server sends, and would be read as a wrong name.
fn overlong_field(item: &Item) -> Option<&'static str> {
    let meta = &item.metadata;
    if meta.name.as_deref().is_some_and(is_marker) {
        Some("name")
    } else if meta
        .labels
        .iter()
        .flatten()
        .any(|(k, v)| is_marker(k) || is_marker(v))
    {
        Some("label")
    } else if item.data.0.keys().any(|k| is_marker(k)) {
        Some("key name")
    } else if item.secret_type.as_deref().is_some_and(is_marker) {
        Some("type")
    } else if meta.finalizers.iter().flatten().any(|f| is_marker(f)) {
        Some("finalizer")
    } else {
        None
    }
}

#[cfg(test)]
#[path = "pages_tests.rs"]
mod tests;
