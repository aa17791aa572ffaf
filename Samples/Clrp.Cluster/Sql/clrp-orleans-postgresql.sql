-- PostgreSQL schema of the explain cluster (Samples/Clrp.Cluster), written for this project.
--
-- Orleans' ADO.NET providers run no SQL of their own: at start they read the text of each query from the table
-- OrleansQuery (QueryKey, QueryText) and bind named parameters (@DeploymentId, @Address, @Version, ...) to it. This file
-- creates the tables and fills OrleansQuery with our queries for the two providers the cluster uses:
--   * clustering (Microsoft.Orleans.Clustering.AdoNet): the membership table, with optimistic concurrency on a
--     per-deployment version row (a change succeeds only if the caller saw the latest version);
--   * grain storage (Microsoft.Orleans.Persistence.AdoNet): one row per grain state with an integer version as ETag.
-- The parameter names and result columns are the providers' contract (Orleans 10.4); the SQL is ours.
-- Re-running the file is harmless: it creates what is missing and replaces the queries.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) PRIMARY KEY,
    QueryText text NOT NULL
);

-- Clustering -----------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS clrp_membership_version
(
    deployment_id varchar(150) PRIMARY KEY,
    changed_at    timestamptz  NOT NULL DEFAULT now(),
    version       integer      NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS clrp_membership
(
    deployment_id   varchar(150) NOT NULL REFERENCES clrp_membership_version (deployment_id) ON DELETE CASCADE,
    address         varchar(45)  NOT NULL,
    port            integer      NOT NULL,
    generation      integer      NOT NULL,
    silo_name       varchar(150) NOT NULL,
    host_name       varchar(150) NOT NULL,
    status          integer      NOT NULL,
    proxy_port      integer,
    suspect_times   text,
    start_time      timestamptz  NOT NULL,
    i_am_alive_time timestamptz  NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- Grain storage ---------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS clrp_grain_state
(
    service_id     varchar(150) NOT NULL,
    grain_type     varchar(512) NOT NULL,
    grain_id_n0    bigint       NOT NULL,
    grain_id_n1    bigint       NOT NULL,
    grain_id_ext   varchar(512) NOT NULL,
    payload        bytea,
    version        integer      NOT NULL,
    modified_at    timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_ext)
);

-- Writes a grain state if the caller holds the stored version (null: the row must not exist yet); returns the new
-- version, or null when the caller's version is stale (Orleans then raises InconsistentStateException).
CREATE OR REPLACE FUNCTION clrp_write_grain_state(_service varchar, _type varchar, _n0 bigint, _n1 bigint, _ext varchar,
                                                  _expected integer, _payload bytea)
    RETURNS TABLE ("NewGrainStateVersion" integer)
    LANGUAGE plpgsql AS
$$
DECLARE
    _new integer;
BEGIN
    IF _expected IS NULL THEN
        INSERT INTO clrp_grain_state (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_ext, payload, version)
        VALUES (_service, _type, _n0, _n1, _ext, _payload, 1)
        ON CONFLICT DO NOTHING
        RETURNING version INTO _new;
    ELSE
        UPDATE clrp_grain_state
        SET payload = _payload, version = version + 1, modified_at = now()
        WHERE service_id = _service AND grain_type = _type AND grain_id_n0 = _n0 AND grain_id_n1 = _n1
          AND grain_id_ext = _ext AND version = _expected
        RETURNING version INTO _new;
    END IF;
    RETURN QUERY SELECT _new;
END
$$;

-- Clears a grain state (keeps the row, bumps the version) under the same rule; returns the new version or null.
CREATE OR REPLACE FUNCTION clrp_clear_grain_state(_service varchar, _type varchar, _n0 bigint, _n1 bigint, _ext varchar,
                                                  _expected integer)
    RETURNS TABLE ("Version" integer)
    LANGUAGE plpgsql AS
$$
DECLARE
    _new integer;
BEGIN
    UPDATE clrp_grain_state
    SET payload = NULL, version = version + 1, modified_at = now()
    WHERE service_id = _service AND grain_type = _type AND grain_id_n0 = _n0 AND grain_id_n1 = _n1
      AND grain_id_ext = _ext AND version = _expected
    RETURNING version INTO _new;
    RETURN QUERY SELECT _new;
END
$$;

-- The queries ------------------------------------------------------------------------------------------------------

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $q$
    WITH inserted AS (
        INSERT INTO clrp_membership_version (deployment_id) VALUES (@DeploymentId)
        ON CONFLICT DO NOTHING RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM inserted)
$q$),
('InsertMembershipKey', $q$
    WITH bumped AS (
        UPDATE clrp_membership_version SET version = version + 1, changed_at = now()
        WHERE deployment_id = @DeploymentId AND version = @Version
          AND NOT EXISTS (SELECT 1 FROM clrp_membership
                          WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
        RETURNING deployment_id),
    inserted AS (
        INSERT INTO clrp_membership (deployment_id, address, port, generation, silo_name, host_name, status, proxy_port,
                                     start_time, i_am_alive_time)
        SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
        FROM bumped
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM inserted)
$q$),
('UpdateMembershipKey', $q$
    WITH bumped AS (
        UPDATE clrp_membership_version SET version = version + 1, changed_at = now()
        WHERE deployment_id = @DeploymentId AND version = @Version
          AND EXISTS (SELECT 1 FROM clrp_membership
                      WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
        RETURNING deployment_id),
    updated AS (
        UPDATE clrp_membership m
        SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
        FROM bumped b
        WHERE m.deployment_id = b.deployment_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM updated)
$q$),
('UpdateIAmAlivetimeKey', $q$
    UPDATE clrp_membership SET i_am_alive_time = @IAmAliveTime
    WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),
('MembershipReadRowKey', $q$
    SELECT v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
           m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
           m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
    FROM clrp_membership_version v
    LEFT JOIN clrp_membership m ON m.deployment_id = v.deployment_id
                               AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    WHERE v.deployment_id = @DeploymentId
$q$),
('MembershipReadAllKey', $q$
    SELECT v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
           m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
           m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
    FROM clrp_membership_version v
    LEFT JOIN clrp_membership m ON m.deployment_id = v.deployment_id
    WHERE v.deployment_id = @DeploymentId
$q$),
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM clrp_membership_version WHERE deployment_id = @DeploymentId
$q$),
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM clrp_membership
    WHERE deployment_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status <> 3
$q$),
('GatewaysQueryKey', $q$
    SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
    FROM clrp_membership
    WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),
('ReadFromStorageKey', $q$
    SELECT payload AS "PayloadBinary", version AS "Version"
    FROM clrp_grain_state
    WHERE service_id = @ServiceId AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_ext = coalesce(@GrainIdExtensionString::varchar, '')
$q$),
('WriteToStorageKey', $q$
    SELECT * FROM clrp_write_grain_state(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
                                         coalesce(@GrainIdExtensionString::varchar, ''), @GrainStateVersion::integer, @PayloadBinary)
$q$),
('ClearStorageKey', $q$
    SELECT * FROM clrp_clear_grain_state(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
                                         coalesce(@GrainIdExtensionString::varchar, ''), @GrainStateVersion::integer)
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
