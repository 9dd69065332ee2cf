//! [`Tag`]: the name of the worker pool a task runs on.

use std::borrow::Cow;
use std::fmt;

/// The name of a worker pool. Tasks with the same tag share one pool of an
/// executor, so IO-bound and CPU-bound work can be given separate threads.
///
/// Tasks without a tag run on [`Tag::DEFAULT`]. A literal tag costs no
/// allocation. Tags are meant to be few: each distinct tag is a pool of
/// threads.
///
/// ```
/// use taskflow_engine::{Executor, Tag, Task};
///
/// let pool = String::from("io");
/// let task = Task::new("read", |_| Ok(())).tag(&pool); // &String, String, &'static str
/// # let _ = task;
/// let executor = Executor::builder().tag_workers(Tag::new("io"), 4).build()?;
/// assert_eq!(executor.workers(&pool), 4);
/// assert_eq!(Tag::default(), Tag::DEFAULT);
/// # Ok::<(), taskflow_engine::BuildError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(Cow<'static, str>);

impl Tag {
    /// The tag of tasks that were not given one: `"default"`.
    pub const DEFAULT: Tag = Tag(Cow::Borrowed("default"));

    /// A tag with this name.
    #[must_use]
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Tag(name.into())
    }

    /// The tag's name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Tag {
    fn default() -> Self {
        Tag::DEFAULT
    }
}

impl From<&'static str> for Tag {
    fn from(name: &'static str) -> Self {
        Tag(Cow::Borrowed(name))
    }
}

impl From<String> for Tag {
    fn from(name: String) -> Self {
        Tag(Cow::Owned(name))
    }
}

impl From<&String> for Tag {
    fn from(name: &String) -> Self {
        Tag(Cow::Owned(name.clone()))
    }
}

impl From<Cow<'static, str>> for Tag {
    fn from(name: Cow<'static, str>) -> Self {
        Tag(name)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:?})", self.as_str())
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Tag;

    #[test]
    fn borrowed_and_owned_names_are_the_same_tag() {
        assert_eq!(Tag::from("io"), Tag::from(String::from("io")));
        assert_eq!(Tag::from("io"), Tag::from(&String::from("io")));
        assert_ne!(Tag::from("io"), Tag::from("cpu"));
        assert_eq!(Tag::default(), Tag::DEFAULT);
        assert_eq!(Tag::DEFAULT.as_str(), "default");
    }
}
