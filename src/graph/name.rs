//! [`Name`]: a task's name in 16 bytes, borrowed (`&'static str`) or owned.
//!
//! `Cow<'static, str>` takes 24 bytes, a third of a task's budget in the
//! arena. A name is only ever read as a `&str`, so it can be a pointer and a
//! length, with the top bit of the length recording whether the bytes are
//! owned (a leaked `Box<str>` that the name frees) or borrowed.

use std::borrow::Cow;
use std::fmt;
use std::ptr::NonNull;

/// The top bit of `Name::len`: set when the name owns its bytes.
const OWNED: usize = 1 << (usize::BITS - 1);

/// A task name: a `&'static str`, or a `Box<str>` it owns.
pub(crate) struct Name {
    /// The first byte of the UTF-8 text (dangling but non-null when empty).
    bytes: NonNull<u8>,
    /// The length in bytes, with [`OWNED`] set for an owned name.
    len: usize,
}

// SAFETY: a name is either a `&'static str` or a uniquely owned `Box<str>`,
// both of which are `Send` and `Sync`; nothing else can reach the bytes.
unsafe impl Send for Name {}
// SAFETY: see `Send`; a name only hands out shared `&str`s.
unsafe impl Sync for Name {}

impl Name {
    /// Takes a borrowed name as it is and an owned one without copying.
    pub(crate) fn new(name: Cow<'static, str>) -> Self {
        match name {
            Cow::Borrowed(text) => Name {
                bytes: NonNull::from(text.as_bytes()).cast(),
                len: text.len(),
            },
            Cow::Owned(text) => {
                let text: Box<str> = text.into_boxed_str();
                let len = text.len();
                // `Box::into_raw` never returns null.
                let bytes =
                    NonNull::new(Box::into_raw(text).cast::<u8>()).expect("a box is never null");
                Name {
                    bytes,
                    len: len | OWNED,
                }
            }
        }
    }

    fn is_owned(&self) -> bool {
        self.len & OWNED != 0
    }

    pub(crate) fn as_str(&self) -> &str {
        let len = self.len & !OWNED;
        // SAFETY: `bytes` and the length came from a valid `str`, borrowed
        // for `'static` or owned by this name until it drops, so `len`
        // initialised bytes of UTF-8 live at `bytes` for as long as `&self`.
        unsafe {
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(self.bytes.as_ptr(), len))
        }
    }

    /// The name as a `Cow` that outlives the graph: borrowed names stay
    /// borrowed, owned ones are copied.
    pub(crate) fn to_cow(&self) -> Cow<'static, str> {
        if self.is_owned() {
            Cow::Owned(self.as_str().to_owned())
        } else {
            let len = self.len;
            // SAFETY: not owned, so the bytes are a `&'static str`'s.
            Cow::Borrowed(unsafe {
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(self.bytes.as_ptr(), len))
            })
        }
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        if self.is_owned() {
            let len = self.len & !OWNED;
            let text = std::ptr::slice_from_raw_parts_mut(self.bytes.as_ptr(), len) as *mut str;
            // SAFETY: an owned name's bytes are the `Box<str>` leaked in
            // `Name::new`, with this length; the name is its only owner and
            // is being dropped, so the box is rebuilt and freed exactly once.
            drop(unsafe { Box::from_raw(text) });
        }
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::Name;

    #[test]
    fn borrowed_and_owned_names_read_back() {
        let borrowed = Name::new(Cow::Borrowed("literal"));
        let owned = Name::new(Cow::Owned(format!("task {}", 7)));
        let empty = Name::new(Cow::Owned(String::new()));
        assert_eq!(borrowed.as_str(), "literal");
        assert_eq!(owned.as_str(), "task 7");
        assert_eq!(empty.as_str(), "");
        assert!(matches!(borrowed.to_cow(), Cow::Borrowed("literal")));
        assert_eq!(owned.to_cow(), "task 7");
        assert_eq!(std::mem::size_of::<Name>(), 16);
    }
}
