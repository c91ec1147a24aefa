//! EXPLAIN [(option, ...)] statement: the bound plan, printed as text (one
//! row per line) or, with FORMAT JSON / XML / YAML, as one document in
//! PostgreSQL's shape (a tree of nodes, each with a "Node Type" and its
//! child "Plans"). The node texts are Freshet's own plan nodes.

use freshet_common::{Error, Result, SqlState};
use sqlparser::ast;

use super::Binder;
use crate::names;
use crate::plan::Plan;

/// An EXPLAIN output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Xml,
    Yaml,
}

/// One plan node: its description and its inputs.
struct Node {
    text: String,
    children: Vec<Node>,
}

impl Binder<'_> {
    /// Binds EXPLAIN: the rows it answers with.
    pub(crate) fn bind_explain(
        &mut self,
        statement: &ast::Statement,
        options: Option<&[ast::UtilityOption]>,
        format: Option<&ast::AnalyzeFormatKind>,
    ) -> Result<Plan> {
        let mut out = match format {
            Some(ast::AnalyzeFormatKind::Keyword(f) | ast::AnalyzeFormatKind::Assignment(f)) => match f {
                ast::AnalyzeFormat::JSON => Format::Json,
                _ => Format::Text,
            },
            None => Format::Text,
        };
        for option in options.unwrap_or_default() {
            let name = names::ident(&option.name);
            let arg = option.arg.as_ref().map(|a| a.to_string().trim_matches('\'').to_lowercase());
            match name.as_str() {
                "format" => {
                    out = match arg.as_deref() {
                        Some("text") => Format::Text,
                        Some("json") => Format::Json,
                        Some("xml") => Format::Xml,
                        Some("yaml") => Format::Yaml,
                        other => {
                            return Err(Error::new(
                                SqlState::InvalidParameterValue,
                                format!("unrecognized value for EXPLAIN option \"format\": \"{}\"", other.unwrap_or("")),
                            ))
                        }
                    }
                }
                // Accepted: the plan printed is the same.
                "analyze" | "verbose" | "costs" | "settings" | "buffers" | "wal" | "timing" | "summary" => {}
                other => {
                    return Err(Error::new(SqlState::SyntaxError, format!("unrecognized EXPLAIN option \"{other}\"")))
                }
            }
        }
        let plan = self.bind_statement(statement)?;
        let text = match &plan {
            Plan::Query(q) | Plan::LockingQuery { query: q, .. } => q.expr.to_string(),
            other => format!("{other:?}\n"),
        };
        let root = tree(&text);
        Ok(Plan::Explain(match out {
            Format::Text => text.lines().map(str::to_string).collect(),
            Format::Json => vec![json(&root)],
            Format::Xml => vec![xml(&root)],
            Format::Yaml => vec![yaml(&root)],
        }))
    }
}

/// The node tree of a text plan, read from its indentation.
fn tree(text: &str) -> Node {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| (l.len() - l.trim_start().len(), l.trim()))
        .collect();
    fn build(lines: &[(usize, &str)], at: &mut usize) -> Node {
        let (indent, text) = lines[*at];
        *at += 1;
        let mut node = Node { text: text.to_string(), children: vec![] };
        while *at < lines.len() && lines[*at].0 > indent {
            node.children.push(build(lines, at));
        }
        node
    }
    if lines.is_empty() {
        return Node { text: "Result".into(), children: vec![] };
    }
    let mut at = 0;
    let mut root = build(&lines, &mut at);
    // Lines after the first tree (several roots) become its children.
    while at < lines.len() {
        root.children.push(build(&lines, &mut at));
    }
    root
}

fn json(root: &Node) -> String {
    fn node(n: &Node, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        out.push_str("{\n");
        out.push_str(&format!("{pad}  \"Node Type\": {}", serde_json::Value::String(n.text.clone())));
        if !n.children.is_empty() {
            out.push_str(&format!(",\n{pad}  \"Plans\": [\n"));
            for (i, c) in n.children.iter().enumerate() {
                out.push_str(&format!("{pad}    "));
                node(c, depth + 2, out);
                out.push_str(if i + 1 < n.children.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{pad}  ]"));
        }
        out.push_str(&format!("\n{pad}}}"));
    }
    let mut out = String::from("[\n  {\n    \"Plan\": ");
    node(root, 2, &mut out);
    out.push_str("\n  }\n]");
    out
}

fn xml(root: &Node) -> String {
    fn escape(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    }
    fn node(n: &Node, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        out.push_str(&format!("{pad}<Plan>\n{pad}  <Node-Type>{}</Node-Type>\n", escape(&n.text)));
        if !n.children.is_empty() {
            out.push_str(&format!("{pad}  <Plans>\n"));
            for c in &n.children {
                node(c, depth + 2, out);
            }
            out.push_str(&format!("{pad}  </Plans>\n"));
        }
        out.push_str(&format!("{pad}</Plan>\n"));
    }
    let mut out = String::from("<explain xmlns=\"http://www.postgresql.org/2009/explain\">\n  <Query>\n");
    node(root, 2, &mut out);
    out.push_str("  </Query>\n</explain>");
    out
}

fn yaml(root: &Node) -> String {
    fn node(n: &Node, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        out.push_str(&format!("{pad}Node Type: {}\n", serde_json::Value::String(n.text.clone())));
        if !n.children.is_empty() {
            out.push_str(&format!("{pad}Plans:\n"));
            for c in &n.children {
                out.push_str(&format!("{pad}  - "));
                let mut inner = String::new();
                node(c, depth + 2, &mut inner);
                out.push_str(inner.trim_start());
            }
        }
    }
    let mut out = String::from("- Plan: \n");
    node(root, 2, &mut out);
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::{json, tree, xml, yaml};

    #[test]
    fn formats_a_plan_tree() {
        let root = tree("Project\n  Filter a > 1\n    Get t\n  Get u\n");
        assert_eq!(root.children.len(), 2);
        let j: serde_json::Value = serde_json::from_str(&json(&root)).expect("valid JSON");
        assert_eq!(j[0]["Plan"]["Node Type"], "Project");
        assert_eq!(j[0]["Plan"]["Plans"][0]["Plans"][0]["Node Type"], "Get t");
        assert!(xml(&root).contains("<Node-Type>Filter a &gt; 1</Node-Type>"));
        assert!(yaml(&root).starts_with("- Plan: \n    Node Type: \"Project\""));
    }
}
