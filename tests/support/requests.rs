//! What reached the test server, counted the ways the tests ask: by
//! method and path, and the writes among them.

use super::{ApiServer, OWNER, TestEnv};

/// The label selector of a LIST of `owner`'s secrets (docs/konduktor-compat.md §3.6).
pub fn owner_selector(owner: &str) -> String {
    format!("trainy.ai/secret-owner={owner}")
}

impl ApiServer {
    /// Requests with `method` whose path ends with `path_suffix`.
    pub fn count(&self, method: &str, path_suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.is(method, path_suffix))
            .count()
    }

    /// Requests with `method`, whatever their path.
    pub fn sent(&self, method: &str) -> usize {
        self.count(method, "")
    }

    /// Every write (POST, PATCH, PUT, DELETE) but the reviews, which only
    /// ask (who am I, may I), as `METHOD path`, in order.
    pub fn writes(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| matches!(r.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE"))
            .filter(|r| !r.path.contains("/selfsubject"))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

impl TestEnv {
    /// Forget what the test server has seen so far (nothing to forget on a
    /// real cluster).
    pub fn clear_requests(&self) {
        if let Some(server) = self.fake() {
            server.clear_requests();
        }
    }

    /// On the test server: exactly one request since the last clear, the
    /// LIST of the test owner's secrets.
    pub fn assert_only_the_owner_list(&self) {
        if let Some(server) = self.fake() {
            let reqs = server.requests();
            assert_eq!(reqs.len(), 1, "one LIST: {reqs:#?}");
            assert_eq!(reqs[0].method, "GET", "{reqs:#?}");
            assert_eq!(reqs[0].label_selector(), Some(owner_selector(OWNER)));
        }
    }

    /// On the test server: nothing was written since the last clear.
    pub fn assert_no_writes(&self) {
        if let Some(server) = self.fake() {
            assert_eq!(
                server.writes(),
                Vec::<String>::new(),
                "nothing may be written"
            );
        }
    }
}
