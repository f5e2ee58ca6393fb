use crate::model::{DEFAULT_REVISION_HISTORY, Pod, PullPolicy};
use crate::spec::parse_str;

const IMAGE: &str = "[containers.app]\nimage = \"nginx:1.25\"\n";
const HOST: &str = "[containers.tool]\ncommand = [\"/bin/true\"]\n";

fn ok(src: &str) -> Pod {
    parse_str(src, "t.toml", "t").unwrap_or_else(|d| panic!("{d}\n{src}"))
}

fn errors(src: &str) -> Vec<String> {
    match parse_str(src, "t.toml", "t") {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn left_out_they_are_the_defaults() {
    let pod = ok(&format!("{IMAGE}{HOST}"));
    assert_eq!(pod.updates.deadline_ms, None);
    assert_eq!(pod.updates.history, DEFAULT_REVISION_HISTORY);
    for c in &pod.containers {
        assert_eq!(c.updates.pull, PullPolicy::Missing, "{}", c.name);
        assert!(!c.updates.auto_update, "{}", c.name);
    }
}

#[test]
fn each_pull_policy_is_read() {
    for (written, want) in [
        ("missing", PullPolicy::Missing),
        ("always", PullPolicy::Always),
        ("never", PullPolicy::Never),
    ] {
        let pod = ok(&format!("{IMAGE}pull = \"{written}\"\n"));
        assert_eq!(pod.containers[0].updates.pull, want, "{written}");
    }
}

/// The pod's `auto_update` is its image containers' default; a
/// container's own wins; a container without an image is never updated.
#[test]
fn auto_update_is_the_containers_own_else_the_pods() {
    let auto = |pod: &Pod| -> Vec<(String, bool)> {
        pod.containers
            .iter()
            .map(|c| (c.name.clone(), c.updates.auto_update))
            .collect()
    };
    let three = |pod_key: &str, b: &str| {
        format!(
            "{pod_key}{IMAGE}[containers.b]\nimage = \"nginx:1.25\"\n{b}{HOST}auto_update = \"disabled\"\n"
        )
    };
    let cases = [
        ("", "", [false, false, false]),
        ("", "auto_update = \"registry\"\n", [false, true, false]),
        ("auto_update = \"registry\"\n", "", [true, true, false]),
        (
            "auto_update = \"registry\"\n",
            "auto_update = \"disabled\"\n",
            [true, false, false],
        ),
        (
            "auto_update = \"disabled\"\n",
            "auto_update = \"registry\"\n",
            [false, true, false],
        ),
    ];
    for (pod_key, b, want) in cases {
        let pod = ok(&three(pod_key, b));
        let got: Vec<bool> = auto(&pod).into_iter().map(|(_, on)| on).collect();
        assert_eq!(got, want, "{pod_key}{b}");
    }
    // A host container under a pod-wide "registry" is left alone.
    let pod = ok(&format!("auto_update = \"registry\"\n{HOST}{IMAGE}"));
    assert_eq!(auto(&pod), [("tool".into(), false), ("app".into(), true)]);
}

#[test]
fn update_deadline_and_revision_history_are_read() {
    let pod = ok(&format!(
        "update_deadline = \"90s\"\nrevision_history = 3\n{IMAGE}"
    ));
    assert_eq!(pod.updates.deadline_ms, Some(90_000));
    assert_eq!(pod.updates.history, 3);
    let pod = ok(&format!(
        "update_deadline = 120\nrevision_history = 1000\n{IMAGE}"
    ));
    assert_eq!(pod.updates.deadline_ms, Some(120_000));
    assert_eq!(pod.updates.history, 1000);
    assert_eq!(
        ok(&format!("revision_history = 1\n{IMAGE}"))
            .updates
            .history,
        1
    );
}

#[test]
fn pull_and_auto_update_need_an_image() {
    assert_eq!(
        errors(&format!(
            "{HOST}pull = \"always\"\nauto_update = \"registry\"\n"
        )),
        [
            "t.toml:3:8: containers.tool.pull: only a container with an image is pulled (this one runs the host's binaries)",
            "t.toml:4:15: containers.tool.auto_update: only a container with an image is updated (this one runs the host's binaries)",
        ]
    );
    // "disabled" says what a host container is anyway.
    ok(&format!("{HOST}auto_update = \"disabled\"\n"));
}

#[test]
fn unknown_values_list_the_allowed_ones() {
    assert_eq!(
        errors(&format!(
            "auto_update = \"local\"\n{IMAGE}pull = \"allways\"\nauto_update = true\n"
        )),
        [
            "t.toml:1:15: auto_update: \"local\" is not an auto-update policy (allowed: registry, disabled)",
            "t.toml:4:8: containers.app.pull: \"allways\" is not a pull policy (allowed: missing, always, never); did you mean `always`?",
            "t.toml:5:15: containers.app.auto_update: expected a string",
        ]
    );
}

#[test]
fn registry_updates_need_an_image_that_is_pulled() {
    assert_eq!(
        errors(&format!(
            "{IMAGE}pull = \"never\"\nauto_update = \"registry\"\n"
        )),
        [
            "t.toml:4:15: containers.app.auto_update: \"registry\" with pull = \"never\": an image that is never pulled is never updated (pull = \"missing\" or \"always\" pulls it)",
        ]
    );
    assert_eq!(
        errors(&format!(
            "auto_update = \"registry\"\n{IMAGE}pull = \"never\"\n"
        )),
        [
            "t.toml:4:8: containers.app.pull: \"never\" in a pod with auto_update = \"registry\": an image that is never pulled is never updated (set auto_update = \"disabled\" in this container)",
        ]
    );
    // Its own "disabled" lets it stay as stored.
    let pod = ok(&format!(
        "auto_update = \"registry\"\n{IMAGE}pull = \"never\"\nauto_update = \"disabled\"\n"
    ));
    assert!(!pod.containers[0].updates.auto_update);
}

#[test]
fn the_deadline_and_history_are_bounded() {
    assert_eq!(
        errors(&format!(
            "update_deadline = \"2h\"\nrevision_history = 0\n{IMAGE}"
        )),
        [
            "t.toml:1:19: update_deadline: \"2h\" is out of range (from 1s to 1h)",
            "t.toml:2:20: revision_history: 0 is out of range (from 1 to 1000)",
        ]
    );
    assert_eq!(
        errors(&format!(
            "update_deadline = \"soon\"\nrevision_history = \"10\"\n{IMAGE}"
        )),
        [
            "t.toml:1:19: update_deadline: \"soon\" is not a duration (use e.g. \"10s\", \"500ms\", \"2m\" or a number of seconds; at most a day)",
            "t.toml:2:20: revision_history: expected a number of revisions from 1 to 1000",
        ]
    );
    assert_eq!(
        errors(&format!("revision_history = 1001\n{IMAGE}")),
        ["t.toml:1:20: revision_history: 1001 is out of range (from 1 to 1000)"]
    );
}
