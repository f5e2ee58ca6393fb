//! `resourceFieldRef` (of `env[].valueFrom` and of a downward API volume's
//! items): a container's limit or request as the kubelet gives it, the amount divided by `divisor` (default `1`) and
//! rounded up: `requests.cpu` of `250m` is `1`, with `divisor: 1m` `250`.

use super::quantity;
use super::walk::{self, Cx, fields, join};
use super::yaml::{Node, Value};

const RESOURCES: [&str; 4] = [
    "limits.cpu",
    "limits.memory",
    "requests.cpu",
    "requests.memory",
];

/// The value of `resourceFieldRef` at `n` (`path`) in the Pod's `spec`,
/// for container `own` unless it names another of the pod's (a volume's
/// names its container: `own` is None).
pub(crate) fn value(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    own: Option<&str>,
    spec: &Node,
) -> Option<String> {
    let [container, resource, divisor] =
        fields(cx, n, path, ["containerName", "resource", "divisor"], &[]);
    let target = match (container, own) {
        (Some(c), _) => walk::string(cx, c, &join(path, "containerName"))?,
        (None, Some(own)) => own,
        (None, None) => {
            cx.error(
                n,
                path,
                "missing containerName (a volume's resourceFieldRef names its container)",
            );
            return None;
        }
    };
    let resource_node = resource.or_else(|| {
        cx.error(n, path, "missing resource");
        None
    })?;
    let resource = walk::string(cx, resource_node, &join(path, "resource"))?;
    if !RESOURCES.contains(&resource) {
        cx.unsupported(
            resource_node,
            &join(path, "resource"),
            &format!(
                "resource {resource} (podctl gives {})",
                RESOURCES.join(", ")
            ),
        );
        return None;
    }
    let divisor_milli = match divisor {
        Some(d) => {
            let text = walk::scalar_text(cx, d, &join(path, "divisor"))?;
            match quantity::milli(&text) {
                Some(m) if m > 0 => m,
                _ => {
                    cx.error(
                        d,
                        &join(path, "divisor"),
                        format!("{text:?} is not a divisor (a quantity above 0, e.g. 1m or 1Mi)"),
                    );
                    return None;
                }
            }
        }
        None => 1000,
    };
    let Some(spec) = find_container(spec, target) else {
        cx.error(
            n,
            &join(path, "containerName"),
            format!("no container named {target:?} in this pod"),
        );
        return None;
    };
    let (kind, what) = resource.split_once('.').expect("listed with a dot");
    // A request left out is the limit, as in Kubernetes.
    let written = amount(spec, kind, what).or_else(|| {
        (kind == "requests")
            .then(|| amount(spec, "limits", what))
            .flatten()
    });
    let Some(milli) = written else {
        let message = if kind == "limits" {
            format!(
                "container {target:?} has no resources.limits.{what}: Kubernetes would give the node's allocatable; set the limit"
            )
        } else {
            format!("container {target:?} has no resources.{kind}.{what} nor limits.{what}")
        };
        cx.error(resource_node, &join(path, "resource"), message);
        return None;
    };
    Some(milli.div_ceil(divisor_milli).to_string())
}

/// The container named `name` among the pod's containers and init containers.
fn find_container<'a>(spec: &'a Node, name: &str) -> Option<&'a Node> {
    ["containers", "initContainers"]
        .into_iter()
        .filter_map(|list| get(spec, list))
        .flat_map(|l| match &l.value {
            Value::Seq(items) => items.as_slice(),
            _ => &[],
        })
        .find(|c| get(c, "name").is_some_and(|n| n.value == Value::Str(name.to_string())))
}

/// `resources.KIND.WHAT` of a container, in thousandths; None when not
/// written or not a quantity (its own field reports that).
fn amount(container: &Node, kind: &str, what: &str) -> Option<u128> {
    let n = get(get(get(container, "resources")?, kind)?, what)?;
    let text = match &n.value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        _ => return None,
    };
    quantity::milli(&text)
}

/// The value of `key` in mapping `n`.
fn get<'a>(n: &'a Node, key: &str) -> Option<&'a Node> {
    match &n.value {
        Value::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| k.key_text().as_deref() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}
