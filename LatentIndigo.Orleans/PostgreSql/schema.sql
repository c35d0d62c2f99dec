-- LatentIndigo's PostgreSQL schema for Orleans' ADO.NET clustering and grain-storage providers (Orleans 10.4).
-- Written for this project from the providers' contract (the query keys they read from OrleansQuery, the parameters
-- they bind, the columns they read back); not Orleans' own scripts. Idempotent: PostgresSchema.InstallAsync runs it on
-- every silo start, in one transaction under an advisory lock, and it replaces the query texts with this version's.
--
-- Contract notes:
--  * The providers read "SELECT QueryKey, QueryText FROM OrleansQuery" and bind parameters by name (@DeploymentId ...).
--  * Membership: one version row per deployment (cluster id); every insert or update of a silo row must bump it, and
--    must fail (return false) when the caller's version is stale. The version row is updated first so that its row lock
--    serialises concurrent changes; a change that then finds nothing to do undoes the bump in the same transaction.
--  * Grain storage: the version is the ETag. A write or clear whose version is not the stored one must return a row
--    with a NULL version (the provider reports a conflict); returning no row would hide the conflict.
--  * Times are timestamptz: the providers pass UTC DateTimes.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) PRIMARY KEY,
    QueryText text        NOT NULL
);

-- Membership (clustering) --------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS latentindigo_membership_version
(
    deployment_id varchar(150) PRIMARY KEY,
    version       integer      NOT NULL DEFAULT 0,
    changed_at    timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS latentindigo_membership
(
    deployment_id   varchar(150) NOT NULL REFERENCES latentindigo_membership_version ON DELETE CASCADE,
    address         varchar(45)  NOT NULL,
    port            integer      NOT NULL,
    generation      integer      NOT NULL,
    silo_name       varchar(150) NOT NULL,
    host_name       varchar(150) NOT NULL,
    status          integer      NOT NULL,
    proxy_port      integer      NOT NULL DEFAULT 0,
    suspect_times   text,
    start_time      timestamptz  NOT NULL,
    i_am_alive_time timestamptz  NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

CREATE OR REPLACE FUNCTION latentindigo_membership_insert(
    p_deployment text, p_address text, p_port integer, p_generation integer, p_silo_name text, p_host_name text,
    p_status integer, p_proxy_port integer, p_start_time timestamptz, p_i_am_alive_time timestamptz, p_version integer)
    RETURNS boolean LANGUAGE plpgsql AS
$$
BEGIN
    UPDATE latentindigo_membership_version SET version = version + 1, changed_at = now()
    WHERE deployment_id = p_deployment AND version = p_version;
    IF NOT FOUND THEN
        RETURN false; -- stale version: another silo changed the table since the caller read it
    END IF;
    INSERT INTO latentindigo_membership (deployment_id, address, port, generation, silo_name, host_name, status,
                                         proxy_port, start_time, i_am_alive_time)
    VALUES (p_deployment, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status,
            coalesce(p_proxy_port, 0), p_start_time, p_i_am_alive_time)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        UPDATE latentindigo_membership_version SET version = version - 1 WHERE deployment_id = p_deployment;
        RETURN false; -- that silo is in the table already
    END IF;
    RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION latentindigo_membership_update(
    p_deployment text, p_address text, p_port integer, p_generation integer, p_status integer, p_suspect_times text,
    p_i_am_alive_time timestamptz, p_version integer)
    RETURNS boolean LANGUAGE plpgsql AS
$$
BEGIN
    UPDATE latentindigo_membership_version SET version = version + 1, changed_at = now()
    WHERE deployment_id = p_deployment AND version = p_version;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE latentindigo_membership
    SET status = p_status, suspect_times = p_suspect_times, i_am_alive_time = p_i_am_alive_time
    WHERE deployment_id = p_deployment AND address = p_address AND port = p_port AND generation = p_generation;
    IF NOT FOUND THEN
        UPDATE latentindigo_membership_version SET version = version - 1 WHERE deployment_id = p_deployment;
        RETURN false; -- no such silo
    END IF;
    RETURN true;
END
$$;

-- Grain state (persistence) ------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS latentindigo_grain_state
(
    service_id    varchar(150) NOT NULL,
    grain_type    text         NOT NULL, -- the state name the grain declares ("job", "board")
    grain_id_n0   bigint       NOT NULL,
    grain_id_n1   bigint       NOT NULL,
    grain_key     text         NOT NULL, -- string key or key extension; '' when there is none (so it can be in the key)
    payload       bytea,                 -- NULL after a clear
    version       integer      NOT NULL,
    modified_at   timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_type, grain_id_n0, grain_id_n1, grain_key)
);

-- The query texts --------------------------------------------------------------------------------------------------

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

('InsertMembershipVersionKey', $q$
WITH inserted AS (
    INSERT INTO latentindigo_membership_version (deployment_id) VALUES (@DeploymentId)
    ON CONFLICT DO NOTHING RETURNING 1)
SELECT EXISTS (SELECT 1 FROM inserted)
$q$),

('MembershipReadAllKey', $q$
SELECT v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
FROM latentindigo_membership_version v
LEFT JOIN latentindigo_membership m ON m.deployment_id = v.deployment_id
WHERE v.deployment_id = @DeploymentId
$q$),

('MembershipReadRowKey', $q$
SELECT v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
FROM latentindigo_membership_version v
LEFT JOIN latentindigo_membership m ON m.deployment_id = v.deployment_id
    AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.deployment_id = @DeploymentId
$q$),

('InsertMembershipKey', $q$
SELECT latentindigo_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
                                      @ProxyPort, @StartTime, @IAmAliveTime, @Version)
$q$),

('UpdateMembershipKey', $q$
SELECT latentindigo_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes,
                                      @IAmAliveTime, @Version)
$q$),

('UpdateIAmAlivetimeKey', $q$
UPDATE latentindigo_membership SET i_am_alive_time = @IAmAliveTime
WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),

('DeleteMembershipTableEntriesKey', $q$
DELETE FROM latentindigo_membership_version WHERE deployment_id = @DeploymentId
$q$),

-- Status 6 is SiloStatus.Dead.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM latentindigo_membership
WHERE deployment_id = @DeploymentId AND status = 6 AND i_am_alive_time < @IAmAliveTime
$q$),

('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
FROM latentindigo_membership
WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),

('ReadFromStorageKey', $q$
SELECT payload AS "PayloadBinary", version AS "Version"
FROM latentindigo_grain_state
WHERE service_id = @ServiceId AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0
  AND grain_id_n1 = @GrainIdN1 AND grain_key = coalesce(@GrainIdExtensionString, '')
$q$),

-- A first write (no version) inserts at version 1; later writes update only the version the grain read.
('WriteToStorageKey', $q$
WITH inserted AS (
    INSERT INTO latentindigo_grain_state (service_id, grain_type, grain_id_n0, grain_id_n1, grain_key, payload, version)
    SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, coalesce(@GrainIdExtensionString, ''), @PayloadBinary, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING RETURNING version),
updated AS (
    UPDATE latentindigo_grain_state SET payload = @PayloadBinary, version = version + 1, modified_at = now()
    WHERE @GrainStateVersion IS NOT NULL AND version = @GrainStateVersion
      AND service_id = @ServiceId AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0
      AND grain_id_n1 = @GrainIdN1 AND grain_key = coalesce(@GrainIdExtensionString, '')
    RETURNING version)
SELECT coalesce((SELECT version FROM inserted), (SELECT version FROM updated)) AS "NewGrainStateVersion"
$q$),

('ClearStorageKey', $q$
WITH cleared AS (
    UPDATE latentindigo_grain_state SET payload = NULL, version = version + 1, modified_at = now()
    WHERE version = @GrainStateVersion
      AND service_id = @ServiceId AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0
      AND grain_id_n1 = @GrainIdN1 AND grain_key = coalesce(@GrainIdExtensionString, '')
    RETURNING version)
SELECT (SELECT version FROM cleared) AS "Version"
$q$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
