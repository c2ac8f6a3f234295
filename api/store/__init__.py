"""Service storage: the SQL database (datasets, jobs, runs) and files under the data directory."""

from api.store.database import Database, JsonText
from api.store.files import DataDir
from api.store.tables import Dataset, Job, Run, owned
from api.store.versions import package_versions

__all__ = ["DataDir", "Database", "Dataset", "Job", "JsonText", "Run", "owned", "package_versions"]
