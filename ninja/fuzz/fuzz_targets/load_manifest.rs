//! Loads arbitrary bytes as `build.ninja`: the lexer, parser and loader must
//! return a value or a `LoadError`, never panic or hang. `include` and
//! `subninja` of any path read the same bytes again (the loader's depth limit
//! ends the recursion), so the fuzzer reaches nested scopes too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskflow_ninja::load::{FileReader, load};

struct Same<'a>(&'a [u8]);

impl FileReader for Same<'_> {
    fn read(&self, _path: &str) -> std::io::Result<Vec<u8>> {
        Ok(self.0.to_vec())
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = load(&Same(data), "build.ninja") {
        // Error messages are built from positions: format one of each kind.
        let _ = manifest.graph.default_targets();
    }
});
