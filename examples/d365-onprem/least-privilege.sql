-- The SQL login of AXDB_USER, with what the scripts need on AXDB and no more: read and set
-- CONFIGURATIONMODE, read sessions, users and batch jobs for the impact preview and the hooks (not
-- axdbadmin, not db_owner). Run once as a database administrator; its password is the one the worker
-- gets as AXDB_PASSWORD.
CREATE LOGIN maintenance_orchestrator WITH PASSWORD = '<the password the worker gets as AXDB_PASSWORD>', CHECK_POLICY = ON;
GO
USE AXDB;
CREATE USER maintenance_orchestrator FOR LOGIN maintenance_orchestrator;
GRANT SELECT ON dbo.SQLSYSTEMVARIABLES TO maintenance_orchestrator;
GRANT UPDATE ON dbo.SQLSYSTEMVARIABLES (VALUE) TO maintenance_orchestrator;
GRANT SELECT ON dbo.USERINFO TO maintenance_orchestrator;
GRANT SELECT ON dbo.SYSCLIENTSESSIONS TO maintenance_orchestrator;
GRANT SELECT ON dbo.BATCHJOB TO maintenance_orchestrator;
GO
