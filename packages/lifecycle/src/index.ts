export { nowOf, DAY_MS, type LifecycleContext } from "./context";
export {
  getMailSettings,
  updateMailSettings,
  sendMail,
  sendTestMail,
  mailTransport,
  describeSmtpError,
  mailSettingsSchema,
  testMailSchema,
  SMTP_PASSWORD_CONTEXT,
  NOT_CONFIGURED,
  type MailSettingsView,
  type MailSettingsInput,
  type SendResult,
  type OutgoingMail,
} from "./smtp";
export {
  scheduleEnrollmentNotice,
  scheduleExpiryReminders,
  deliverPendingMail,
  notificationRecipient,
  enrollmentMail,
  expiryMail,
  EXPIRY_WINDOW_DAYS,
  type ScheduleResult,
} from "./notifications";
export { notePlatformAnswer, raisePlatformAlert, clearPlatformAlert, platformAlertMail, type PlatformAnswer } from "./platform-alerts";
export { revokeUnusedCertificates, type UnusedSweepResult } from "./unused";
export { checkDevicesAgainstSignalSources, type DeviceSweepOptions, type DeviceSweepResult, type InventoryPassResult } from "./revoke-on-failure";
export { reserveLookups, refundLookups, lookupsInLastHour, lookupsPerMinute, DEFAULT_LOOKUPS_PER_HOUR, KANDJI_REQUESTS_PER_HOUR } from "./budget";
export {
  exportEventsCsv,
  exportQuery,
  csvField,
  getEventRetention,
  updateEventRetention,
  purgeExpiredEvents,
  LifecycleEventType,
  CSV_COLUMNS,
  MAX_EXPORT_ROWS,
} from "./events";
export { nudge, type QueueName } from "./registry";
