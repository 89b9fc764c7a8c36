"""What the prediction services tell the layers above them.

``worker`` never imports ``review`` (the apps form layers), yet the desk's
queue must know the moment a prediction exists. So storing predictions
sends ``predictions_stored`` inside the storing transaction, with
``version`` (the ``ModelVersion``) and ``prediction_ids`` (the rows just
made); a receiver's writes commit or roll back with the predictions.
"""

from __future__ import annotations

from django.dispatch import Signal

predictions_stored = Signal()
