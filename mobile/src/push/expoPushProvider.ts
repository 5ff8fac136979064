import Constants from 'expo-constants';
import * as Device from 'expo-device';
import * as Notifications from 'expo-notifications';
import { Platform } from 'react-native';

import type { PushProvider } from './pushRegistration';

// A push that arrives while the app is open is shown as a banner too.
Notifications.setNotificationHandler({
  handleNotification: async () => ({
    shouldShowBanner: true,
    shouldShowList: true,
    shouldPlaySound: false,
    shouldSetBadge: false,
  }),
});

/** Expo's push service through expo-notifications (needs a real device and an EAS project id). */
export const expoPushProvider: PushProvider = {
  platform: Platform.OS === 'ios' || Platform.OS === 'android' ? Platform.OS : null,
  async expoPushToken() {
    if (!Device.isDevice) return null;
    if (Platform.OS === 'android') {
      await Notifications.setNotificationChannelAsync('leads', {
        name: 'Leads',
        importance: Notifications.AndroidImportance.DEFAULT,
      });
    }
    let { status } = await Notifications.getPermissionsAsync();
    if (status !== 'granted') status = (await Notifications.requestPermissionsAsync()).status;
    if (status !== 'granted') return null;
    const extra = Constants.expoConfig?.extra as { eas?: { projectId?: string } } | undefined;
    const projectId = extra?.eas?.projectId ?? Constants.easConfig?.projectId;
    const token = await Notifications.getExpoPushTokenAsync(projectId ? { projectId } : undefined);
    return token.data;
  },
  onOpened(listener) {
    const subscription = Notifications.addNotificationResponseReceivedListener((response) =>
      listener((response.notification.request.content.data ?? {}) as Record<string, unknown>),
    );
    return () => subscription.remove();
  },
};
