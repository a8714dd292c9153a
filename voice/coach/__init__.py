"""The coaching core: a pure dialogue state machine. Events in, commands out, time as input.

Nothing here imports an audio, speech or web library, and nothing here sleeps.
"""
