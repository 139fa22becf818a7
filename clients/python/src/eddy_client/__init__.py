"""Client of eddy, the stream-processing engine: its drift and anomaly
alerts from a Kafka topic (JSON or Avro) or from a worker's admin API, and
the features its feature store serves. See clients/python/README.md."""
from .admin import AdminClient, AlertPage, FeatureRow, FeatureValue, SeqAlert
from .alert import Alert, alert_from_dict, decode_json_alert
from .avro import AvroAlertDecoder
from .errors import (AdminHTTPError, AdminUnreachable, AlertDecodeError, EddyError,
                     FeaturesNotFound, KafkaReadError, UnexpectedAnswer)
from .kafka import follow_kafka

__version__ = "0.1.0"
__all__ = [
    "AdminClient", "AdminHTTPError", "AdminUnreachable", "Alert", "AlertDecodeError",
    "AlertPage", "AvroAlertDecoder", "EddyError", "FeatureRow", "FeatureValue",
    "FeaturesNotFound", "KafkaReadError", "SeqAlert", "UnexpectedAnswer", "alert_from_dict",
    "decode_json_alert", "follow_kafka",
]
