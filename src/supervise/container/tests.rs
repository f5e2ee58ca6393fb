use super::exec::stream_header;
use super::*;
use crate::model::User;

#[test]
fn stream_header_names_the_scope() {
    // journald falls back to the header's unit when the sender is gone.
    assert_eq!(
        stream_header("web/setup", "pod-web.setup.scope", 6),
        "web/setup\npod-web.setup.scope\n6\n1\n0\n0\n0\n"
    );
}

#[test]
fn path_lookup_finds_sh_and_reports_missing() {
    let env = vec![("PATH".to_string(), "/nonexistent:/bin:/usr/bin".to_string())];
    let sh = resolve_command(&["sh".into()], &env).unwrap();
    assert!(sh.to_string_lossy().ends_with("/sh"));
    let err = resolve_command(&["no-such-cmd-xyz".into()], &env).unwrap_err();
    assert!(
        err.contains("not found in PATH=/nonexistent:/bin:/usr/bin"),
        "{err}"
    );
    assert_eq!(
        resolve_command(&["/x/y".into()], &env)
            .unwrap()
            .to_str()
            .unwrap(),
        "/x/y"
    );
}

#[test]
fn numeric_user_defaults_gid() {
    let c = resolve_user(Some(&User::Id { uid: 0, gid: None }))
        .unwrap()
        .unwrap();
    assert_eq!(c.gid, 0);
    let c = resolve_user(Some(&User::Id {
        uid: 4242,
        gid: Some(7),
    }))
    .unwrap()
    .unwrap();
    assert_eq!((c.uid, c.gid, c.additional_gids), (4242, 7, vec![7]));
    let e = resolve_user(Some(&User::Name("no-such-user-xyz".into())))
        .err()
        .unwrap();
    assert!(e.message.contains("does not exist"), "{}", e.message);
    assert_eq!(e.fault, SetupFault::Definition);
}
