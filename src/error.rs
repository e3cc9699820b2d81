//! The one error type users see: a message, what kind of failure it is, and
//! a hint on what to do. Rendered by miette; never a debug dump.
//!
//! Messages are built from names, paths, keys and server messages, never from
//! secret values. Message, help and label pass through [`crate::escape`]
//! here, so a file or secret name cannot send control sequences to the
//! terminal, whoever built the message.

use std::fmt;

use miette::{Diagnostic, LabeledSpan};

use crate::snippet::Snippet;

/// What went wrong, broadly: it picks the diagnostic code and the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A command-line argument the parser let through but a later check
    /// refused: a usage error, exit 2 as clap's own, nothing was sent.
    Usage,
    /// Bad manifest or file input; nothing was sent.
    Input,
    /// The owner hash could not be resolved.
    Identity,
    /// No usable kubeconfig, context or namespace.
    Kubeconfig,
    /// The server could not be reached.
    Unreachable,
    /// The server did not answer within the request timeout.
    Timeout,
    /// 401.
    Unauthorized,
    /// 403 from RBAC: the user may not do this.
    Forbidden,
    /// 403 from a ResourceQuota: the namespace has no room for more.
    Quota,
    /// The namespace does not exist, or is being deleted.
    Gone,
    /// 404 on something the user named.
    NotFound,
    /// 409: already exists, changed meanwhile, failed precondition.
    Conflict,
    /// 422 and 400: the server refused the object or the request.
    Invalid,
    /// 413: the object is larger than the server accepts.
    TooLarge,
    /// 5xx and anything else the server said.
    Server,
    /// A secret with our name that is not ours: never touched.
    Foreign,
    /// The operation would need something the user did not grant (e.g. --yes).
    Refused,
    /// Standard output could not be written (a full disk, a closed descriptor).
    Output,
}

impl ErrorKind {
    fn code(self) -> &'static str {
        match self {
            ErrorKind::Usage => "konduktor::usage",
            ErrorKind::Input => "konduktor::input",
            ErrorKind::Identity => "konduktor::identity",
            ErrorKind::Kubeconfig => "konduktor::kubeconfig",
            ErrorKind::Unreachable => "konduktor::unreachable",
            ErrorKind::Timeout => "konduktor::timeout",
            ErrorKind::Unauthorized => "konduktor::unauthorized",
            ErrorKind::Forbidden => "konduktor::forbidden",
            ErrorKind::Quota => "konduktor::quota",
            ErrorKind::Gone => "konduktor::namespace_gone",
            ErrorKind::NotFound => "konduktor::not_found",
            ErrorKind::Conflict => "konduktor::conflict",
            ErrorKind::Invalid => "konduktor::invalid",
            ErrorKind::TooLarge => "konduktor::too_large",
            ErrorKind::Server => "konduktor::server",
            ErrorKind::Foreign => "konduktor::foreign_secret",
            ErrorKind::Refused => "konduktor::refused",
            ErrorKind::Output => "konduktor::output",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    message: String,
    help: Option<String>,
    snippet: Option<Box<Snippet>>,
    /// Further problems found in the same pass (e.g. every bad manifest entry).
    related: Vec<Error>,
    /// Asking again would get the same answer (one over a cap this tool
    /// keeps): never retried, whatever its kind.
    final_answer: bool,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: crate::escape::text(&message.into()).into_owned(),
            help: None,
            snippet: None,
            related: Vec::new(),
            final_answer: false,
        }
    }

    /// Mark this error as one that asking again would get again.
    #[must_use]
    pub fn final_answer(mut self) -> Self {
        self.final_answer = true;
        self
    }

    /// Whether asking again might get another answer.
    #[must_use]
    pub fn worth_asking_again(&self) -> bool {
        !self.final_answer
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(crate::escape::text(&help.into()).into_owned());
        self
    }

    /// The hint with `note` after it (`hint; note`), or `note` alone.
    #[must_use]
    pub fn with_help_note(self, note: &str) -> Self {
        let help = match self.hint() {
            Some(h) => format!("{h}; {note}"),
            None => note.to_string(),
        };
        self.with_help(help)
    }

    #[must_use]
    pub fn with_snippet(mut self, mut snippet: Snippet) -> Self {
        snippet.label = crate::escape::text(&snippet.label).into_owned();
        self.snippet = Some(Box::new(snippet));
        self
    }

    #[must_use]
    pub fn with_related(mut self, related: Vec<Error>) -> Self {
        self.related = related;
        self
    }

    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The hint, if any (already escaped).
    #[must_use]
    pub fn hint(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The further problems found in the same pass.
    #[must_use]
    pub fn related(&self) -> &[Error] {
        &self.related
    }

    pub fn input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Input, message)
    }

    /// A bad command-line argument: exit 2, as clap's usage errors.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// The same error, as a usage error (it is about what was typed).
    #[must_use]
    pub fn as_usage(mut self) -> Self {
        self.kind = ErrorKind::Usage;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.snippet
            .as_ref()
            .map(|s| &s.source as &dyn miette::SourceCode)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|e| e as &dyn Diagnostic)))
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.snippet.as_ref().map(|s| {
            Box::new(std::iter::once(LabeledSpan::new_with_span(
                Some(s.label.clone()),
                s.span,
            ))) as _
        })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
