"""Run `claimlint check` on a Spark RDD of NDJSON encounter records with RDD.pipe.

Usage: spark-submit claimlint_pipe.py INPUT OUTPUT

Every executor needs the claimlint binary at CLAIMLINT, for example baked
into the executor image. Records are partitioned by patient id first, so that
patient-month rules (CMS-CCM-012, CMS-CCM-013) and the duplicate-encounter
check see all records of a patient.

OUTPUT receives the findings as NDJSON. The driver exits like claimlint: 2 when
any partition had an input or configuration error, else 1 when any partition
had findings at or above --fail-on, else 0.
"""

import json
import shlex
import sys

from pyspark.sql import SparkSession

CLAIMLINT = "/opt/claimlint/bin/claimlint"
PARTITIONS = 64

# Runs claimlint on one partition and appends its exit status as a last line,
# so that exit 1 (findings) does not fail the task and exit 2 is still seen.
# A partition with no records is skipped: claimlint rejects empty input.
PARTITION_COMMAND = r"""
IFS= read -r first || exit 0
{ printf '%s\n' "$first"; cat; } | "$CLAIMLINT" check - --format ndjson
echo "{\"claimlint_exit\": $?}"
"""


def patient_id(line):
    """Return the record's patient id, or "" for a line that is not a record."""
    try:
        return str(json.loads(line)["patient"]["id"])
    except (ValueError, KeyError, TypeError, IndexError):
        return ""


def exit_status(line):
    """Return the status of a `claimlint_exit` line, or None for a finding."""
    if not line.startswith('{"claimlint_exit"'):
        return None
    return json.loads(line)["claimlint_exit"]


def main(source, target):
    spark = SparkSession.builder.appName("claimlint-check").getOrCreate()
    lines = spark.sparkContext.textFile(source).filter(lambda line: line.strip())

    # Hash-partition by patient id so one patient's records share a partition.
    records = lines.keyBy(patient_id).partitionBy(PARTITIONS).values()

    # checkCode=True fails the task only when the shell itself fails; the
    # claimlint exit status travels in the output.
    output = records.pipe(
        "sh -c " + shlex.quote(PARTITION_COMMAND),
        env={"CLAIMLINT": CLAIMLINT},
        checkCode=True,
    ).cache()

    output.filter(lambda line: exit_status(line) is None).saveAsTextFile(target)
    statuses = output.map(exit_status).filter(lambda s: s is not None).collect()
    spark.stop()

    if any(status not in (0, 1) for status in statuses):
        print("claimlint: a partition had an input or configuration error; "
              "see the executor logs for its summary line", file=sys.stderr)
        return 2
    return 1 if 1 in statuses else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
