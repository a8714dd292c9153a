"""stretch-coach: an offline, hands-free voice coach for psoas and hip-flexor stretching."""

__version__ = "0.1.0"
