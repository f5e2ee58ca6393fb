//! The client's calls: method calls with a timeout, and waiting for the
//! jobs they create through `JobRemoved` signals.

use super::*;

impl Client {
    /// Wraps a connection to systemd; on a bus, subscribes to the manager's
    /// signals (a direct connection is subscribed by systemd from the start).
    pub async fn new(conn: Connection) -> Result<Self, Error> {
        if conn.is_bus() {
            conn.call_method(Some(DEST), PATH, Some(MANAGER), "Subscribe", &())
                .await
                .map_err(|source| Error::Call {
                    method: "Subscribe",
                    unit: "systemd".into(),
                    source,
                })?;
        }
        Ok(Client { conn })
    }

    pub(super) async fn job_stream(&self) -> Result<MessageStream, Error> {
        let call = |source| Error::Call {
            method: "AddMatch",
            unit: "JobRemoved".into(),
            source,
        };
        let mut rule = MatchRule::builder()
            .msg_type(MsgType::Signal)
            .interface(MANAGER)
            .member("JobRemoved")
            .path(PATH);
        // On a direct connection there is no bus to name the sender.
        if self.conn.is_bus() {
            rule = rule.sender(DEST);
        }
        let rule = rule.build().map_err(call)?;
        MessageStream::for_match_rule(rule, &self.conn, NonZeroUsize::new(4096))
            .await
            .map_err(call)
    }

    pub(super) async fn manager_call<B>(
        &self,
        method: &'static str,
        unit: &str,
        body: &B,
    ) -> Result<zbus::Message, Error>
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        within(
            CALL_TIMEOUT,
            self.conn
                .call_method(Some(DEST), PATH, Some(MANAGER), method, body),
        )
        .await
        .ok_or_else(|| Error::Timeout {
            unit: unit.to_string(),
            what: method.to_string(),
            after: CALL_TIMEOUT,
        })?
        .map_err(|source| Error::Call {
            method,
            unit: unit.to_string(),
            source,
        })
    }

    /// Whether systemd still has the job (None: no answer in time).
    pub(super) async fn job_exists(&self, job: &OwnedObjectPath) -> Option<bool> {
        let call = self.conn.call_method(
            Some(DEST),
            job.as_str(),
            Some(PROPS),
            "Get",
            &(JOB, "State"),
        );
        within(CALL_TIMEOUT, call).await.map(|r| r.is_ok())
    }

    pub(super) fn job_path(
        msg: &zbus::Message,
        method: &'static str,
        unit: &str,
    ) -> Result<OwnedObjectPath, Error> {
        msg.body()
            .deserialize::<OwnedObjectPath>()
            .map_err(|e| Error::Reply {
                unit: unit.to_string(),
                detail: format!("{method}: {e}"),
            })
    }

    /// Waits until every job in `pending` is removed; the first failed job is the error.
    pub(super) async fn wait_jobs(
        &self,
        stream: &mut MessageStream,
        mut pending: HashMap<OwnedObjectPath, (String, JobKind)>,
    ) -> Result<(), Error> {
        let mut failure = None;
        let mut gone_once: Vec<OwnedObjectPath> = Vec::new();
        while !pending.is_empty() {
            let Some(next) = within(JOB_CHECK, stream.next()).await else {
                // No news for a while: are the jobs still there?
                for (job, (unit, kind)) in &pending {
                    match self.job_exists(job).await {
                        Some(true) => gone_once.retain(|j| j != job),
                        Some(false) if gone_once.contains(job) => {
                            return Err(Error::Job {
                                unit: unit.clone(),
                                kind: *kind,
                                result: "gone without a JobRemoved signal".into(),
                            });
                        }
                        Some(false) => gone_once.push(job.clone()),
                        None => {
                            return Err(Error::Timeout {
                                unit: unit.clone(),
                                what: format!("waiting for its {kind} job"),
                                after: CALL_TIMEOUT,
                            });
                        }
                    }
                }
                continue;
            };
            let Some(msg) = next else {
                return Err(Error::Reply {
                    unit: "systemd".into(),
                    detail: "bus connection closed while waiting for jobs".into(),
                });
            };
            let Ok(msg) = msg else { continue };
            let Ok((_, job, _, result)) = msg.body().deserialize::<JobRemoved>() else {
                continue;
            };
            if let Some((unit, kind)) = pending.remove(&job)
                && result != "done"
                && failure.is_none()
            {
                failure = Some(Error::Job { unit, kind, result });
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// Calls a job-returning method on one unit and waits for the job.
    pub(super) fn unit_job<B>(
        &self,
        method: &'static str,
        kind: JobKind,
        unit: &str,
        body: B,
    ) -> Result<(), Error>
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        zbus::block_on(async {
            let mut stream = self.job_stream().await?;
            let reply = match self.manager_call(method, unit, &body).await {
                Ok(r) => r,
                Err(Error::Call { source, .. })
                    if kind == JobKind::Stop && is_no_such_unit(&source) =>
                {
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            let job = Self::job_path(&reply, method, unit)?;
            self.wait_jobs(
                &mut stream,
                HashMap::from([(job, (unit.to_string(), kind))]),
            )
            .await
        })
    }

    pub(super) async fn get_all(
        &self,
        path: &OwnedObjectPath,
        iface: &str,
        unit: &str,
    ) -> Result<HashMap<String, OwnedVariant>, Error> {
        let body = (iface,);
        let call = self
            .conn
            .call_method(Some(DEST), path.as_str(), Some(PROPS), "GetAll", &body);
        let reply = within(CALL_TIMEOUT, call)
            .await
            .ok_or_else(|| Error::Timeout {
                unit: unit.to_string(),
                what: "GetAll".into(),
                after: CALL_TIMEOUT,
            })?
            .map_err(|source| Error::Call {
                method: "GetAll",
                unit: unit.to_string(),
                source,
            })?;
        reply
            .body()
            .deserialize::<HashMap<String, OwnedVariant>>()
            .map_err(|e| Error::Reply {
                unit: unit.to_string(),
                detail: format!("GetAll {iface}: {e}"),
            })
    }
}
