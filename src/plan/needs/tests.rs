use super::*;

fn pod(name: &str, needs: &[&str], wants: &[&str]) -> Pod {
    let mut p = crate::plan::tests::pod(vec![], vec![]);
    p.name = name.into();
    p.needs = needs.iter().map(|s| s.to_string()).collect();
    p.wants = wants.iter().map(|s| s.to_string()).collect();
    p
}

fn stored(pods: &[&Pod]) -> Pods {
    pods.iter().map(|p| (p.name.clone(), Deps::of(p))).collect()
}

fn names(applied: &[&Pod], order: &[usize]) -> Vec<String> {
    order.iter().map(|&i| applied[i].name.clone()).collect()
}

#[test]
fn the_dropin_binds_to_what_is_needed_and_wants_the_rest() {
    assert_eq!(dropin(&pod("web", &[], &[])), None);
    let text = dropin(&pod("web", &["db", "api"], &["cache"])).unwrap();
    assert_eq!(
        text,
        "# Written by podctl apply from the pod's needs and wants; podctl rewrites it.\n\
         [Unit]\n\
         # needs: db, api\n\
         After=pod@db.service pod@api.service\n\
         BindsTo=pod@db.service pod@api.service\n\
         # wants: cache\n\
         After=pod@cache.service\n\
         Wants=pod@cache.service\n"
    );
    let only_wants = dropin(&pod("web", &[], &["cache"])).unwrap();
    assert!(!only_wants.contains("BindsTo") && !only_wants.contains("Requires"));
    assert_eq!(
        human(&pod("web", &["db"], &["cache"])).as_deref(),
        Some("needs db; wants cache")
    );
}

#[test]
fn apply_takes_pods_after_what_they_need_and_otherwise_as_given() {
    let (web, api, db, cache) = (
        pod("web", &["api"], &["cache"]),
        pod("api", &["db"], &[]),
        pod("db", &[], &[]),
        pod("cache", &[], &[]),
    );
    let applied = [&web, &api, &cache, &db];
    let order = apply_order(&applied, &Pods::new()).unwrap();
    assert_eq!(names(&applied, &order), ["db", "api", "cache", "web"]);
    // Unrelated pods keep their order.
    let (a, b, c) = (pod("a", &[], &[]), pod("b", &[], &[]), pod("c", &[], &[]));
    assert_eq!(apply_order(&[&c, &a, &b], &Pods::new()).unwrap(), [0, 1, 2]);
}

#[test]
fn a_need_must_be_stored_or_applied_with_it() {
    let web = pod("web", &["db"], &[]);
    assert_eq!(
        apply_order(&[&web], &Pods::new()).unwrap_err().to_string(),
        "pod web: needs \"db\", a pod that is neither stored nor in this apply (apply it first, or together)"
    );
    let db = pod("db", &[], &[]);
    assert_eq!(apply_order(&[&web], &stored(&[&db])).unwrap(), [0]);
    let wants = pod("web", &[], &["cache"]);
    assert!(
        apply_order(&[&wants], &Pods::new())
            .unwrap_err()
            .to_string()
            .contains("wants \"cache\"")
    );
}

#[test]
fn a_cycle_is_named_from_where_it_closes() {
    let (web, api) = (pod("web", &["api"], &[]), pod("api", &[], &["web"]));
    assert_eq!(
        apply_order(&[&web, &api], &Pods::new())
            .unwrap_err()
            .to_string(),
        "pods need each other in a cycle: web -> api -> web; none of them could start first"
    );
    // Through a stored pod: the stored definition counts...
    let db = pod("db", &["web"], &[]);
    let web = pod("web", &["db"], &[]);
    assert_eq!(
        apply_order(&[&web], &stored(&[&db])),
        Err(OrderError::Cycle(vec![
            "web".into(),
            "db".into(),
            "web".into()
        ]))
    );
    // ...unless this apply replaces it.
    let db2 = pod("db", &[], &[]);
    assert_eq!(apply_order(&[&web, &db2], &stored(&[&db])).unwrap(), [1, 0]);
}

#[test]
fn down_refuses_a_needed_pod_unless_cascade_and_then_dependents_go_first() {
    let pods = stored(&[
        &pod("db", &[], &[]),
        &pod("api", &["db"], &[]),
        &pod("web", &["api"], &[]),
        &pod("report", &[], &["db"]),
    ]);
    let all = |_: &str| true;
    let err = down_order(&["db".into()], &pods, &all, false).unwrap_err();
    assert_eq!(
        err,
        "pod db is needed by api: take them down first, or add --cascade to take them down too"
    );
    // A dependent that does not count (not running) does not refuse.
    let none = |_: &str| false;
    assert_eq!(
        down_order(&["db".into()], &pods, &none, false).unwrap(),
        ["db"]
    );
    // `wants` never refuses; both taken down together is fine, dependent first.
    assert_eq!(
        down_order(
            &["db".into(), "api".into(), "web".into()],
            &pods,
            &all,
            false
        )
        .unwrap(),
        ["web", "api", "db"]
    );
    assert_eq!(
        down_order(&["db".into()], &pods, &all, true).unwrap(),
        ["web", "api", "db"]
    );
    assert_eq!(needed_by(&pods, "db"), ["api"]);
}

#[test]
fn prune_refuses_a_pod_a_staying_pod_needs_unless_it_goes_too() {
    let (db, web, report) = (
        pod("db", &[], &[]),
        pod("web", &["db"], &[]),
        pod("report", &[], &["db"]),
    );
    let pods = stored(&[&db, &web, &report]);
    let db_only = ["db".to_string()];
    assert_eq!(
        prune_order(&db_only, &pods).unwrap_err(),
        "--prune would remove pod db, which web needs: remove the need, or that pod from the directory too"
    );
    // Both go: web first. A pod that only wants db does not hold it.
    let both = ["db".to_string(), "web".to_string()];
    assert_eq!(prune_order(&both, &pods).unwrap(), ["web", "db"]);
    let pods = stored(&[&db, &report]);
    assert_eq!(prune_order(&db_only, &pods).unwrap(), ["db"]);
}
