//! Loads arbitrary bytes as `build.ninja`: the lexer, parser and loader must
//! return a value or a `LoadError`, never panic or hang. The first few
//! `include`s and `subninja`s of any path read the same bytes again, so the
//! fuzzer reaches nested scopes too; later ones find no file. (An unbounded
//! self-include would let `x = $x $x` double a value per level, which is
//! exponential in ninja as well, not a bug to find.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskflow_ninja::load::{FileReader, load};

struct Same<'a> {
    data: &'a [u8],
    reads_left: std::cell::Cell<u32>,
}

impl FileReader for Same<'_> {
    fn read(&self, _path: &str) -> std::io::Result<Vec<u8>> {
        match self.reads_left.get() {
            0 => Err(std::io::ErrorKind::NotFound.into()),
            n => {
                self.reads_left.set(n - 1);
                Ok(self.data.to_vec())
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = load(
        &Same {
            data,
            reads_left: std::cell::Cell::new(4),
        },
        "build.ninja",
    ) {
        // Error messages are built from positions: format one of each kind.
        let _ = manifest.graph.default_targets();
    }
});
