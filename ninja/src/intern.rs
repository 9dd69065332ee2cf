//! Interned strings: each stored once, one after another in one buffer,
//! numbered in the order they were first added and found by a table of
//! those numbers hashed by content.
//!
//! The graph's paths, the build log's outputs and the deps log's paths are
//! tens of thousands of short strings each, most looked up many times: this
//! keeps them with no allocation per string, and looks one up without
//! copying it or storing it twice (as a map from `String` would).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// A set of strings, each with the index it was added at.
#[derive(Debug, Default)]
pub struct Interner {
    text: String,
    /// Where each string ends in `text`; it starts where the one before
    /// it ends.
    ends: Vec<usize>,
    table: HashTable<usize>,
}

fn hash(s: &str) -> u64 {
    FxBuildHasher.hash_one(s)
}

/// String `id`, from an interner's `text` and `ends`.
fn get_in<'t>(text: &'t str, ends: &[usize], id: usize) -> &'t str {
    let start = if id == 0 { 0 } else { ends[id - 1] };
    &text[start..ends[id]]
}

impl Interner {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `id`.
    pub fn get(&self, id: usize) -> &str {
        get_in(&self.text, &self.ends, id)
    }

    /// The index of `s`, if it was added.
    pub fn lookup(&self, s: &str) -> Option<usize> {
        self.table.find(hash(s), |&id| self.get(id) == s).copied()
    }

    /// The index of `s`, and whether it is new (then it is `len() - 1`).
    pub fn intern(&mut self, s: &str) -> (usize, bool) {
        let h = hash(s);
        if let Some(&id) = self.table.find(h, |&id| self.get(id) == s) {
            return (id, false);
        }
        let id = self.ends.len();
        self.text.push_str(s);
        self.ends.push(self.text.len());
        let Interner { text, ends, table } = self;
        table.insert_unique(h, id, |&other| hash(get_in(text, ends, other)));
        (id, true)
    }

    /// Every string, by index.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|id| self.get(id))
    }
}

#[cfg(test)]
mod tests {
    use super::Interner;

    #[test]
    fn each_string_is_stored_once_and_found_again() {
        let mut strings = Interner::default();
        let words = ["a", "", "bc", "a/b", "ab", "bc"];
        let ids: Vec<_> = words.iter().map(|w| strings.intern(w)).collect();
        assert_eq!(
            ids,
            [
                (0, true),
                (1, true),
                (2, true),
                (3, true),
                (4, true),
                (2, false)
            ]
        );
        assert_eq!(strings.len(), 5);
        for (word, (id, _)) in words.iter().zip(&ids) {
            assert_eq!(strings.get(*id), *word);
            assert_eq!(strings.lookup(word), Some(*id));
        }
        assert_eq!(strings.lookup("b"), None);
        assert_eq!(
            strings.iter().collect::<Vec<_>>(),
            ["a", "", "bc", "a/b", "ab"]
        );
        // Enough to make the table grow and rehash.
        for i in 0..1000 {
            strings.intern(&format!("f{i}"));
        }
        assert_eq!(strings.lookup("f999"), Some(1004));
        assert_eq!(strings.lookup("a/b"), Some(3));
    }
}
