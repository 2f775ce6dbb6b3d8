"""Portfolio jobs on Apache Spark: the only place that imports pyspark (session, score, memos, similar, train)."""
