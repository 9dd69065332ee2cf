//! [`Graph::write_dot`]: a graph's structure in Graphviz DOT, like Taskflow's
//! `dump`, for looking at a graph rather than running it.
//!
//! This module owns the format: one `cluster_<n>` subgraph per tag, labelled
//! with the tag's name, in the order the graph first used the tags; inside
//! it one node `t<index>` per task of the tag, labelled with the task's name,
//! in the order the tasks were added; then every edge, grouped by source in
//! task order and, per source, in the order the edges were declared. Node
//! IDs are task indices, so names need no uniqueness and only labels need
//! escaping.
//!
//! An edge declared twice is written twice: the engine keeps both (each one
//! counts towards its target's dependencies), and the picture shows what
//! the engine holds. Edges come from the tasks' successor lists, which hold
//! every edge as soon as it is declared, including those of
//! [`Graph::precede`] whose targets are counted only before the next run.

use std::io::{self, BufWriter, Write};

use crate::graph::Graph;

impl Graph<'_> {
    /// Writes the graph in Graphviz DOT: one cluster per tag (labelled with
    /// the tag), one node per task (labelled with its name), and every edge,
    /// an edge declared twice as two. Names and tags are escaped, so any
    /// name gives valid DOT; a line break in a name stays one in the label.
    ///
    /// The output is buffered here, so `w` may be a plain file. Render it
    /// with, for example, `dot -Tsvg graph.dot -o graph.svg`.
    ///
    /// ```
    /// use taskflow_engine::{Context, Graph, Task};
    ///
    /// let mut graph = Graph::new();
    /// let read = graph.add(Task::new("read \"a.txt\"", |_: &Context<'_>| Ok(())).tag("io"));
    /// graph.add(Task::new("parse", |_: &Context<'_>| Ok(())).tag("cpu").after(read));
    ///
    /// let mut dot = Vec::new();
    /// graph.write_dot(&mut dot)?;
    /// assert_eq!(
    ///     String::from_utf8(dot)?,
    ///     r#"digraph taskflow {
    ///     subgraph cluster_0 {
    ///         label="io";
    ///         t0 [label="read \"a.txt\""];
    ///     }
    ///     subgraph cluster_1 {
    ///         label="cpu";
    ///         t1 [label="parse"];
    ///     }
    ///     t0 -> t1;
    /// }
    /// "#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_dot(&self, w: impl Write) -> io::Result<()> {
        let (names, tags, table) = self.structure();
        let mut out = BufWriter::new(w);
        // Tasks by tag, each list in index order: one pass, however many
        // tags there are.
        let mut tasks_of_tag = vec![Vec::new(); tags.len()];
        for task in 0..names.len() as u32 {
            tasks_of_tag[table.tag(task) as usize].push(task);
        }
        writeln!(out, "digraph taskflow {{")?;
        for (cluster, (tag, tasks)) in tags.iter().zip(&tasks_of_tag).enumerate() {
            writeln!(out, "    subgraph cluster_{cluster} {{")?;
            writeln!(out, "        label=\"{}\";", Escaped(tag.as_str()))?;
            for &task in tasks {
                let name = Escaped(names[task as usize].as_str());
                writeln!(out, "        t{task} [label=\"{name}\"];")?;
            }
            writeln!(out, "    }}")?;
        }
        for task in 0..names.len() as u32 {
            for successor in table.successors_as_added(task) {
                writeln!(out, "    t{task} -> t{successor};")?;
            }
        }
        writeln!(out, "}}")?;
        out.flush()
    }
}

/// Text written inside a DOT double-quoted string so that it reads back as
/// itself: `"` and `\` get a backslash (a lone backslash would start one of
/// Graphviz's label escapes such as `\N`), a line feed becomes `\n` (a line
/// break in the label), and every other control character is spelled out
/// as Rust writes it (`\r`, `\t`, `\u{1b}`), since raw ones would be
/// invisible or change the layout.
struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                c if c.is_control() => {
                    // `escape_default` starts with a backslash, which the
                    // label must show rather than interpret.
                    for escaped in c.escape_default() {
                        if escaped == '\\' {
                            f.write_str("\\\\")?;
                        } else {
                            f.write_char(escaped)?;
                        }
                    }
                }
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}
