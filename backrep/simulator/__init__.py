"""A physically grounded simulator of a thigh IMU during the programme's exercises.

It builds what a person does (``sessions``), moves a rigid thigh accordingly (``body``), and
turns the sensor's true motion into what an MPU-6050 would record (``imu``). Labels come from
the plan, not from the signal. Nothing here knows about the rep counter.
"""
from backrep.simulator.body import Mounting, Person, SensorMotion, SensorPose, sensor_motion, sensor_pose
from backrep.simulator.choreography import Choreographer, Knock, Plan, Span
from backrep.simulator.imu import ImuErrors, ImuSettings, Samples, ideal_errors, random_errors, sampled
from backrep.simulator.people import random_mounting, random_person
from backrep.simulator.sessions import (CONFOUNDERS, EXERCISES, SessionSpec, SimulatedSession,
                                        simulated_session)

__all__ = ["CONFOUNDERS", "EXERCISES", "Choreographer", "ImuErrors", "ImuSettings", "Knock", "Mounting",
           "Person", "Plan", "Samples", "SensorMotion", "SensorPose", "SessionSpec", "SimulatedSession", "Span",
           "ideal_errors", "random_errors", "random_mounting", "random_person", "sampled",
           "sensor_motion", "sensor_pose", "simulated_session"]
