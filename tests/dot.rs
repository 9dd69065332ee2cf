//! `Graph::write_dot`: the exact DOT text for small graphs (clusters per tag,
//! escaping, edge order and duplicates), and, where Graphviz is installed,
//! that `dot` accepts it and reads the labels back as the names.

use std::io::Write as _;
use std::process::{Command, Stdio};

use taskflow_engine::{Context, Error, Graph, Task};

fn nothing(_: &Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Two named tags and the default one; names with a quote, a backslash, a
/// line break and other control characters; an edge declared twice; edges
/// from `precede` that no run has counted yet, one of them backward.
fn sample() -> Graph<'static> {
    let mut graph = Graph::new();
    let read = graph.add(Task::new("read \"a.txt\"", nothing).tag("io"));
    let parse = graph.add(
        Task::new("parse\\split\nlines", nothing)
            .tag("cpu \"fast\"")
            .after(read),
    );
    let write = graph.add(
        Task::new("write\r\tout", nothing)
            .tag("io")
            .after(read)
            .after(parse),
    );
    let report = graph.add(Task::new("report", nothing).after(write));
    graph.precede(read, parse).expect("a duplicate edge");
    graph.precede(report, read).expect("a backward edge");
    graph
}

fn dot_of(graph: &Graph) -> String {
    let mut dot = Vec::new();
    graph.write_dot(&mut dot).expect("writing to a Vec");
    String::from_utf8(dot).expect("DOT output is UTF-8")
}

#[test]
fn writes_one_cluster_per_tag_escaped_names_and_every_declared_edge() {
    let expected = r#"digraph taskflow {
    subgraph cluster_0 {
        label="io";
        t0 [label="read \"a.txt\""];
        t2 [label="write\\r\\tout"];
    }
    subgraph cluster_1 {
        label="cpu \"fast\"";
        t1 [label="parse\\split\nlines"];
    }
    subgraph cluster_2 {
        label="default";
        t3 [label="report"];
    }
    t0 -> t1;
    t0 -> t2;
    t0 -> t1;
    t1 -> t2;
    t2 -> t3;
    t3 -> t0;
}
"#;
    assert_eq!(dot_of(&sample()), expected);
}

#[test]
fn an_empty_graph_is_an_empty_digraph() {
    assert_eq!(dot_of(&Graph::new()), "digraph taskflow {\n}\n");
}

/// Graphviz is not a dependency of the tests: without `dot` this test says
/// so on stderr and checks nothing more.
#[test]
fn graphviz_accepts_the_output_and_reads_the_names_back() {
    let dot = dot_of(&sample());
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            // Straight to the process's stderr: the harness would show an
            // `eprintln!` only for a failing test.
            writeln!(
                std::io::stderr(),
                "SKIPPED: graphviz_accepts_the_output_and_reads_the_names_back: \
                 no `dot` to run ({error}); install Graphviz to check the DOT output with it"
            )
            .expect("write to stderr");
            return;
        }
    };
    child
        .stdin
        .take()
        .expect("dot's stdin")
        .write_all(dot.as_bytes())
        .expect("write the graph to dot");
    let output = child.wait_with_output().expect("wait for dot");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "dot refused the graph: {stderr}");
    assert!(stderr.is_empty(), "dot warned: {stderr}");
    let svg = String::from_utf8(output.stdout).expect("SVG is UTF-8");
    // SVG escapes the quotes; the label's line break makes two text lines.
    for text in [
        ">read &quot;a.txt&quot;<",
        ">parse\\split<",
        ">lines<",
        ">write\\r\\tout<",
        ">cpu &quot;fast&quot;<",
        ">default<",
    ] {
        assert!(svg.contains(text), "no {text} in dot's SVG:\n{svg}");
    }
}
